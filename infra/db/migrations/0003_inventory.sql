-- Stock levels and the reservations orders hold against them.
create schema if not exists inventory;

create table inventory.stock (
  product_id  uuid        primary key,
  on_hand     integer     not null check (on_hand >= 0),
  reserved    integer     not null default 0 check (reserved >= 0),
  -- False once the product is deleted: it can no longer be reserved.
  orderable   boolean     not null default true,
  updated_at  timestamptz not null default now(),
  constraint reserved_within_on_hand check (reserved <= on_hand)
);

create table inventory.reservations (
  order_id    uuid        not null,
  product_id  uuid        not null references inventory.stock (product_id),
  quantity    integer     not null check (quantity > 0),
  status      text        not null check (status in ('HELD', 'COMMITTED', 'RELEASED')),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  primary key (order_id, product_id)
);
create index reservations_held_idx on inventory.reservations (product_id) where status = 'HELD';

-- Orders whose reservation has been settled (committed, released, or cancelled before anything
-- was held). order.placed and order.cancelled travel on different topics, so a cancel can overtake
-- the reservation; reserveStock holds nothing for an order listed here.
create table inventory.closed_orders (
  order_id   uuid        primary key,
  closed_at  timestamptz not null default now()
);
