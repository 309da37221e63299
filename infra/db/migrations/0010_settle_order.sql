-- An order's settlement as one statement: `select * from inventory.settle_order(…)`.
-- settleReservation calls it on its own, outside any transaction (functions/inventory/store.ts
-- settleHeld given a claim): the Kafka consumer's processed-record claim is written by the same
-- statement, so a settlement is one round trip and the stock rows stay locked for that one
-- statement. Called without a claim, it runs in the caller's transaction.
--
-- COMMITTED takes the units off the shelf (on hand and reserved both drop), RELEASED gives them
-- back (reserved drops); only HELD reservations change, so settling twice changes nothing. The
-- order is closed either way, so an order.placed that arrives after its settlement (the topics
-- keep no order between them) reserves nothing (inventory.reserve_order).
--
-- Concurrency, as inventory.reserve_order: the order's advisory lock serialises the reservation
-- and the settlement of one order, and the statement after it takes its own snapshot (a volatile
-- PL/pgSQL function), so it sees a reservation that committed while this one waited; stock rows
-- are locked in product-id order.
--
-- Rows: one per line settled (product_id, quantity), none when nothing was held; duplicate is true
-- on a single row when the claim was there (this record was applied before; nothing written).
create function inventory.settle_order(
  p_order_id uuid,
  p_outcome text,
  p_claim_consumer text default null,
  p_claim_key text default null
) returns table (
  duplicate boolean,
  product_id uuid,
  quantity integer
) language plpgsql as $$
#variable_conflict use_column
begin
  if p_outcome not in ('COMMITTED', 'RELEASED') then
    raise exception 'settle_order: outcome % is neither COMMITTED nor RELEASED', p_outcome;
  end if;
  perform pg_advisory_xact_lock(hashtextextended('inventory.reservation:' || p_order_id, 0));

  if p_claim_consumer is not null then
    insert into platform.processed_records (consumer, record_key) values (p_claim_consumer, p_claim_key)
      on conflict do nothing;
    if not found then
      return query select true, null::uuid, null::integer;
      return;
    end if;
  end if;

  insert into inventory.closed_orders (order_id) values (p_order_id) on conflict do nothing;
  return query
    with locked as materialized (
      select s.product_id from inventory.stock s
      where s.product_id in (select r.product_id from inventory.reservations r where r.order_id = p_order_id and r.status = 'HELD')
      order by s.product_id
      for update of s
    ), settled as (
      update inventory.reservations r set status = p_outcome, updated_at = now()
      from locked where r.order_id = p_order_id and r.status = 'HELD' and r.product_id = locked.product_id
      returning r.product_id, r.quantity
    ), lowered as (
      update inventory.stock s
      set reserved = s.reserved - settled.quantity,
          on_hand = s.on_hand - case when p_outcome = 'COMMITTED' then settled.quantity else 0 end,
          updated_at = now()
      from settled where s.product_id = settled.product_id
    )
    select false, settled.product_id, settled.quantity from settled order by settled.product_id;
end
$$;
