-- An order's stock reservation as one statement: `select * from inventory.reserve_order(…)`.
-- reserveStock calls it on its own, outside any transaction (functions/inventory/store.ts
-- reserveLines given a claim): the Kafka consumer's processed-record claim and the stock.reserved
-- outbox row are written by the same statement, so a reservation is one round trip and the stock
-- rows stay locked for that one statement. A refusal is left to a transaction
-- (`p_decline_refusal`): its stock.rejected event carries a reason worded by the service
-- (functions/inventory/decisions.ts), so the function writes nothing and answers 'declined', and
-- the consumer applies the record again in a transaction that calls this function without a claim
-- or event and publishes the rejection.
--
-- Concurrency, as the statement it replaces did it:
-- - the order's advisory lock serialises the reservation and the settlement of one order (they
--   arrive on different topics); in a volatile PL/pgSQL function each statement takes its own
--   snapshot, so the checks after the lock see whatever the other committed;
-- - the stock rows are locked in product-id order, so two orders that share products wait for each
--   other instead of deadlocking, and the decision and the writes read the rows as locked.
--
-- outcome: held (outbox_id: the event written, when one was given) | refused (the first line that
-- cannot be held: product_id, quantity, available, orderable; the order is closed) | declined |
-- closed (cancelled before its reservation: nothing held) | already_held (a re-published
-- order.placed) | duplicate (the claim was there: this record was applied before; nothing written).
create function inventory.reserve_order(
  p_order_id uuid,
  p_products uuid[],
  p_quantities integer[],
  p_claim_consumer text default null,
  p_claim_key text default null,
  p_reserved_event jsonb default null,
  p_decline_refusal boolean default false
) returns table (
  outcome text,
  outbox_id bigint,
  product_id uuid,
  quantity integer,
  available integer,
  orderable boolean
) language plpgsql as $$
#variable_conflict use_column
declare
  v_closed boolean;
  v_already_held boolean;
  v_refusal record;
  v_raised integer;
  v_outbox_id bigint;
begin
  perform pg_advisory_xact_lock(hashtextextended('inventory.reservation:' || p_order_id, 0));
  select exists (select 1 from inventory.closed_orders c where c.order_id = p_order_id),
         exists (select 1 from inventory.reservations r where r.order_id = p_order_id)
    into v_closed, v_already_held;

  if not (v_closed or v_already_held) then
    perform 1 from inventory.stock s where s.product_id = any(p_products) order by s.product_id for update;
    select w.product_id, w.quantity, s.on_hand - s.reserved as available, s.orderable
      into v_refusal
      from unnest(p_products, p_quantities) w (product_id, quantity)
      left join inventory.stock s on s.product_id = w.product_id and s.product_id = any(p_products)
      where s.orderable is not true or s.on_hand - s.reserved < w.quantity
      order by w.product_id
      limit 1;
    if v_refusal.product_id is not null and p_decline_refusal then
      return query select 'declined', null::bigint, null::uuid, null::integer, null::integer, null::boolean;
      return;
    end if;
  end if;

  if p_claim_consumer is not null then
    insert into platform.processed_records (consumer, record_key) values (p_claim_consumer, p_claim_key)
      on conflict do nothing;
    if not found then
      return query select 'duplicate', null::bigint, null::uuid, null::integer, null::integer, null::boolean;
      return;
    end if;
  end if;

  if v_closed or v_already_held then
    return query select case when v_closed then 'closed' else 'already_held' end,
      null::bigint, null::uuid, null::integer, null::integer, null::boolean;
    return;
  end if;

  if v_refusal.product_id is not null then
    insert into inventory.closed_orders (order_id) values (p_order_id) on conflict do nothing;
    return query select 'refused', null::bigint, v_refusal.product_id, v_refusal.quantity,
      v_refusal.available, v_refusal.orderable;
    return;
  end if;

  insert into inventory.reservations (order_id, product_id, quantity, status)
    select p_order_id, w.product_id, w.quantity, 'HELD' from unnest(p_products, p_quantities) w (product_id, quantity);
  update inventory.stock s set reserved = s.reserved + w.quantity, updated_at = now()
    from unnest(p_products, p_quantities) w (product_id, quantity)
    where s.product_id = w.product_id and s.product_id = any(p_products);
  get diagnostics v_raised = row_count;
  if v_raised <> cardinality(p_products) then
    raise exception 'order %: % of % lines held; rolling back', p_order_id, v_raised, cardinality(p_products);
  end if;

  -- Due at once (available_at = created_at): the caller's fast path sends it (layers/outbox.ts).
  if p_reserved_event is not null then
    insert into platform.outbox (topic, key, payload, headers, available_at)
      values (p_reserved_event->>'topic', p_reserved_event->>'key', p_reserved_event->'payload',
              p_reserved_event->'headers', now())
      returning id into v_outbox_id;
  end if;
  return query select 'held', v_outbox_id, null::uuid, null::integer, null::integer, null::boolean;
end
$$;
