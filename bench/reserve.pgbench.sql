-- The reservation transaction of inventory.reserveStock, statement for statement, as the app runs
-- it for a one-line order (layers/kafka/consumer.ts applyRecord → reserveForOrder in
-- functions/inventory/reservation-service.ts and reservation-repository.ts). Product ids are
-- md5('bench-product-<n>')::uuid, as bench/reserve.ts seeds them; :nproducts = 1 is the hot case.
\set p random(1, :nproducts)
\set e random(1, 9000000000000000000)
\set o random(1, 9000000000000000000)
BEGIN;
insert into platform.processed_records (consumer, record_key) values ('inventory.reserveStock', md5('e' || :client_id || ':' || :e)::uuid::text) on conflict do nothing returning 1 as fresh;
select pg_advisory_xact_lock(hashtextextended('inventory.reservation:' || md5('o' || :client_id || ':' || :o)::uuid::text, 0));
select 1 from inventory.closed_orders where order_id = md5('o' || :client_id || ':' || :o)::uuid;
select 1 from inventory.reservations where order_id = md5('o' || :client_id || ':' || :o)::uuid limit 1;
select s.product_id, s.on_hand, s.reserved, s.orderable and not exists (select 1 from product.products p where p.id = s.product_id and p.deleted_at is not null) as orderable from inventory.stock s where s.product_id = any(array[md5('bench-product-' || :p)::uuid]) order by s.product_id for update of s;
insert into inventory.reservations (order_id, product_id, quantity, status) values (md5('o' || :client_id || ':' || :o)::uuid, md5('bench-product-' || :p)::uuid, 1, 'HELD');
update inventory.stock s set reserved = s.reserved + l.quantity, updated_at = now() from unnest(array[md5('bench-product-' || :p)::uuid], array[1]::int[]) as l(product_id, quantity) where s.product_id = l.product_id;
insert into platform.outbox (topic, key, payload, headers, available_at) values ('stock.reserved', md5('o' || :client_id || ':' || :o)::uuid::text, jsonb_build_object('eventId', gen_random_uuid(), 'type', 'stock.reserved', 'occurredAt', now(), 'data', jsonb_build_object('orderId', md5('o' || :client_id || ':' || :o)::uuid, 'items', jsonb_build_array(jsonb_build_object('productId', md5('bench-product-' || :p)::uuid, 'quantity', 1)))), jsonb_build_object('event-type', 'stock.reserved', 'correlation-id', md5('o' || :client_id || ':' || :o)::uuid), now()) returning id;
END;
