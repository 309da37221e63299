-- Orders, their items (prices copied from the catalog at placement) and their timeline.
create schema if not exists orders;

create table orders.orders (
  id                uuid        primary key,
  customer_id       uuid        not null,
  status            text        not null check (status in ('PENDING', 'RESERVED', 'COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED')),
  total             bigint      not null check (total >= 0),
  currency          char(3)     not null,
  payment_attempts  integer     not null default 0,
  failure_reason    text,
  -- Idempotency-Key of POST /orders and a hash of the body it came with (same key, other body: 409).
  idempotency_key   text        unique,
  request_hash      text,
  -- The card to charge on every attempt. Only the saga reads it (never an API response or a log);
  -- a real system would store a processor token instead of the number.
  card_number       text        not null,
  card_last4        text        not null,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now()
);
create index orders_customer_idx on orders.orders (customer_id, created_at desc, id desc);
create index orders_status_idx on orders.orders (status, created_at desc, id desc);

create table orders.order_items (
  order_id    uuid    not null references orders.orders (id) on delete cascade,
  product_id  uuid    not null,
  quantity    integer not null check (quantity > 0),
  unit_price  bigint  not null check (unit_price >= 0),
  primary key (order_id, product_id)
);

create table orders.timeline (
  id        bigserial   primary key,
  order_id  uuid        not null references orders.orders (id) on delete cascade,
  at        timestamptz not null default clock_timestamp(),
  status    text        not null,
  detail    text        not null
);
create index timeline_order_idx on orders.timeline (order_id, id);
