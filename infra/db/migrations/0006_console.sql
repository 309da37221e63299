-- Indexes of the live console (functions/console/store.ts), which polls every second: each part of
-- its snapshot and of an order's journey reads through one of these instead of a table scan.

-- Hop latency and throughput: the outbox rows published in the last minute.
create index outbox_published_idx on platform.outbox (published_at) where published_at is not null;
-- An order's journey: its events (every saga event is keyed by the order id).
create index outbox_key_idx on platform.outbox (key, id);
-- The newest orders.
create index orders_created_idx on orders.orders (created_at desc, id desc);
-- Lambda Invoke hop (order → payment): the charges of the last minute.
create index payments_created_idx on payment.payments (created_at);
-- The products with the least available stock.
create index stock_available_idx on inventory.stock ((on_hand - reserved), updated_at desc) where orderable;
