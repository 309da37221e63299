-- The order service's price list: what it knows of the catalog's prices, kept from the
-- product.created / product.updated / product.deleted events (functions/order/onProductChanged.ts)
-- or, for a product it has not heard of yet, from the product service's getProductPrices Invoke
-- API. Placement prices orders from here and never reads the product schema.

-- Every change of a product counts up its version, carried by its events and by getProductPrices:
-- created, updated and deleted travel on different topics, so a consumer applies a snapshot only
-- if it is newer than the one it holds.
alter table product.products add column version bigint not null default 1;

create table orders.product_prices (
  product_id  uuid        primary key,
  -- Integer minor units, as in the catalog.
  price       bigint      not null check (price >= 0),
  currency    char(3)     not null,
  -- Sticky: once the catalog deleted the product no older snapshot brings it back.
  deleted     boolean     not null default false,
  version     bigint      not null,
  updated_at  timestamptz not null default now()
);
