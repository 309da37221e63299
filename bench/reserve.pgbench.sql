-- The reservation transaction of inventory.reserveStock, statement for statement, as the app sends
-- it for a one-line order (layers/outbox.ts inTransaction (postgres.js sql.begin) →
-- layers/kafka/consumer.ts claimAndApply → reserveStock in functions/inventory/steps.ts
-- → reserveLines in functions/inventory/store.ts, and publish in layers/outbox.ts). The app sends
-- BEGIN (postgres.js sql.begin), then pipelines the processed-record claim, the order's advisory
-- lock and the reservation statement (one round trip), then sends the outbox insert and COMMIT;
-- so does this script. Product ids are
-- md5('bench-product-<n>')::uuid, as bench/reserve.ts seeds them; :nproducts = 1 is the hot case.
-- Where the app binds a uuid or an array, this script computes it in SQL (md5(…)::uuid, array[…]):
-- a little more server work for pgbench.
\set p random(1, :nproducts)
\set e random(1, 9000000000000000000)
\set o random(1, 9000000000000000000)
BEGIN;
\startpipeline
insert into platform.processed_records (consumer, record_key) values ('inventory.reserveStock', md5('e' || :client_id || ':' || :e)::uuid::text);
select pg_advisory_xact_lock(hashtextextended('inventory.reservation:' || md5('o' || :client_id || ':' || :o)::uuid::text, 0));
with wanted as ( select product_id, quantity from unnest(array[md5('bench-product-' || :p)::uuid], array[1]) as w (product_id, quantity) ), state as ( select exists (select 1 from inventory.closed_orders where order_id = md5('o' || :client_id || ':' || :o)::uuid) as closed, exists (select 1 from inventory.reservations where order_id = md5('o' || :client_id || ':' || :o)::uuid) as already_held ), locked as materialized ( select s.product_id, s.on_hand - s.reserved as available, s.orderable from inventory.stock s where s.product_id = any(array[md5('bench-product-' || :p)::uuid]) and not (select closed or already_held from state) order by s.product_id for update of s ), refusal as ( select w.product_id, w.quantity, l.available, l.orderable from wanted w left join locked l using (product_id) where l.orderable is not true or l.available < w.quantity order by w.product_id limit 1 ), held as ( insert into inventory.reservations (order_id, product_id, quantity, status) select md5('o' || :client_id || ':' || :o)::uuid, product_id, quantity, 'HELD' from wanted where not (select closed or already_held from state) and not exists (select 1 from refusal) returning product_id, quantity ), raised as ( update inventory.stock s set reserved = s.reserved + held.quantity, updated_at = now() from held where s.product_id = held.product_id returning s.product_id ), closed as ( insert into inventory.closed_orders (order_id) select md5('o' || :client_id || ':' || :o)::uuid where not (select closed or already_held from state) and exists (select 1 from refusal) on conflict do nothing ) select state.closed, state.already_held, (select count(*) from raised)::int as held_lines, refusal.product_id, refusal.quantity, refusal.available, refusal.orderable from state left join refusal on true;
\endpipeline
insert into platform.outbox (topic, key, payload, headers, available_at) values ('stock.reserved', md5('o' || :client_id || ':' || :o)::uuid::text, jsonb_build_object('eventId', gen_random_uuid(), 'type', 'StockReserved', 'occurredAt', now(), 'data', jsonb_build_object('orderId', md5('o' || :client_id || ':' || :o)::uuid, 'items', jsonb_build_array(jsonb_build_object('productId', md5('bench-product-' || :p)::uuid, 'quantity', 1)))), jsonb_build_object('event-type', 'StockReserved', 'correlation-id', md5('o' || :client_id || ':' || :o)::uuid), coalesce(null::timestamptz, now())) returning id;
COMMIT;
