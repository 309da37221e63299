-- Shared saga plumbing: the transactional outbox and the consumers' processed-record log.
create schema if not exists platform;

-- Events written in the same transaction as the state change they announce. The relay publishes
-- rows whose available_at has passed; a future available_at is how the saga schedules a delayed
-- re-enqueue (payment retries with backoff).
create table platform.outbox (
  id            bigserial primary key,
  topic         text        not null,
  key           text        not null,
  payload       jsonb       not null,
  headers       jsonb       not null default '{}'::jsonb,
  created_at    timestamptz not null default now(),
  available_at  timestamptz not null default now(),
  published_at  timestamptz,
  attempts      integer     not null default 0,
  last_error    text
);
create index outbox_due_idx on platform.outbox (available_at, id) where published_at is null;

-- One row per record a consumer has applied, written in the same transaction as the effect, so a
-- redelivered record (Kafka is at-least-once) is recognised and changes nothing.
create table platform.processed_records (
  consumer      text        not null,
  record_key    text        not null,
  processed_at  timestamptz not null default now(),
  primary key (consumer, record_key)
);
