-- The reservation of inventory.reserveStock, as the app sends it for a one-line order: one
-- statement on its own, no transaction (functions/inventory/steps.ts reserveStockAlone →
-- reserveLines in functions/inventory/store.ts): the SQL function inventory.reserve_order
-- (migration 0009) with the consumer's claim and the stock.reserved outbox row. Product ids are
-- md5('bench-product-<n>')::uuid, as bench/reserve.ts seeds them; :nproducts = 1 is the hot case.
-- Where the app binds a uuid, an array or the event's JSON, this script computes it in SQL
-- (md5(…)::uuid, array[…], jsonb_build_object): a little more server work for pgbench.
\set p random(1, :nproducts)
\set e random(1, 9000000000000000000)
\set o random(1, 9000000000000000000)
select * from inventory.reserve_order(md5('o' || :client_id || ':' || :o)::uuid, array[md5('bench-product-' || :p)::uuid], array[1], 'inventory.reserveStock', md5('e' || :client_id || ':' || :e)::uuid::text, jsonb_build_object('topic', 'stock.reserved', 'key', md5('o' || :client_id || ':' || :o)::uuid::text, 'payload', jsonb_build_object('eventId', gen_random_uuid(), 'type', 'StockReserved', 'occurredAt', now(), 'data', jsonb_build_object('orderId', md5('o' || :client_id || ':' || :o)::uuid, 'items', jsonb_build_array(jsonb_build_object('productId', md5('bench-product-' || :p)::uuid, 'quantity', 1)))), 'headers', jsonb_build_object('event-type', 'StockReserved', 'correlation-id', md5('o' || :client_id || ':' || :o)::uuid)), true);
