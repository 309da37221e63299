-- Product catalog: products, categories and the many-to-many link between them.
-- Owned by the product service (functions/product); inventory learns of products only through
-- the product.* events, never by reading these tables.
create schema if not exists product;

create table product.categories (
  id          uuid        primary key,
  name        text        not null check (length(name) between 1 and 100),
  slug        text        not null unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 100),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

create table product.products (
  id           uuid        primary key,
  sku          text        not null check (length(sku) between 1 and 64),
  name         text        not null check (length(name) between 1 and 200),
  description  text        check (length(description) <= 5000),
  -- Integer minor units (1999 USD = 19.99 USD).
  price        bigint      not null check (price between 0 and 100000000000),
  currency     char(3)     not null check (currency ~ '^[A-Z]{3}$'),
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  -- Deleted products stay for the orders that reference them but can no longer be ordered, and
  -- their sku may be reused by a new product.
  deleted_at   timestamptz
);
create unique index products_sku_live_idx on product.products (sku) where deleted_at is null;
-- Keyset pagination of the live catalog on (created_at, id).
create index products_created_idx on product.products (created_at, id) where deleted_at is null;

create table product.product_categories (
  product_id   uuid not null references product.products (id) on delete cascade,
  category_id  uuid not null references product.categories (id) on delete cascade,
  primary key (product_id, category_id)
);
create index product_categories_category_idx on product.product_categories (category_id, product_id);
