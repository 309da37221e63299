-- The payment processor simulator's ledger: one row per charge attempt.
create schema if not exists payment;

create table payment.payments (
  -- UUIDv5 of "orderId:attempt", so a retried charge call can never create a second payment.
  id           uuid        primary key,
  order_id     uuid        not null,
  attempt      integer     not null check (attempt >= 1),
  amount       bigint      not null check (amount >= 0),
  currency     char(3)     not null,
  -- VOIDED: the order was cancelled while this charge was pending or had just settled.
  status       text        not null check (status in ('PENDING', 'APPROVED', 'DECLINED', 'FAILED', 'VOIDED')),
  failure_code text,
  retryable    boolean     not null default false,
  card_last4   text        not null,
  created_at   timestamptz not null default now(),
  settled_at   timestamptz,
  -- A charge that outlives its caller (the timeout test card) settles at this time: the charge
  -- call itself settles it when it wakes, and an inquiry settles it if that call died.
  settle_at    timestamptz,
  unique (order_id, attempt)
);
create unique index payments_one_approval_idx on payment.payments (order_id) where status = 'APPROVED';
