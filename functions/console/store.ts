/**
 * SQL of the console: read-only views over every service's tables, one statement per page poll
 * (the snapshot) and one per opened order (the journey). Each part uses an index
 * (infra/db/migrations/0006_console.sql lists which); the function's pool holds one connection.
 */
import type { Queryable } from '#layers/db';
import { KAFKA_HOPS, type JourneyEvent, type JourneyPayment, type OrderStatus } from './flow.ts';

/** The window of the latency percentiles; throughput counts the last RATE_WINDOW_S of it. */
export const LATENCY_WINDOW_S = 60;
export const RATE_WINDOW_S = 10;
const LIST_LIMIT = 8;

export interface HopFigures {
  hop: string;
  perSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Events of the last minute not yet applied (kafka hops) or charges not yet settled (invoke). */
  inFlight: number;
}

export interface OrderSummary {
  id: string;
  status: OrderStatus;
  createdAt: string;
  updatedAt: string;
}

export interface StockLine {
  productId: string;
  sku: string | null;
  name: string | null;
  onHand: number;
  reserved: number;
  available: number;
}

export interface SnapshotRows {
  now: string;
  statuses: Record<string, number>;
  hops: HopFigures[];
  recent: OrderSummary[];
  inFlight: OrderSummary[];
  stock: StockLine[];
  outbox: { due: number; scheduled: number };
}

/** Everything the page shows from the database, in one round trip. */
export async function readSnapshot(
  sql: Queryable,
  prefix: string,
  customerId?: string,
): Promise<SnapshotRows> {
  const scope = customerId ? sql`where customer_id = ${customerId}` : sql``;
  const scopeAnd = customerId ? sql`and customer_id = ${customerId}` : sql``;
  const [row] = await sql<{ snapshot: SnapshotRows }[]>`
    with hop (id, topic, consumer) as (
      select * from unnest(${KAFKA_HOPS.map((h) => h.id)}::text[], ${KAFKA_HOPS.map((h) => prefix + h.topic)}::text[], ${KAFKA_HOPS.map((h) => h.consumer)}::text[])
    ),
    delivered as (
      select h.id, o.available_at, p.processed_at
      from platform.outbox o
      join hop h on h.topic = o.topic
      left join platform.processed_records p on p.consumer = h.consumer and p.record_key = o.payload->>'eventId'
      where o.published_at > now() - make_interval(secs => ${LATENCY_WINDOW_S})
    ),
    charged as (
      select created_at, settled_at from payment.payments
      where created_at > now() - make_interval(secs => ${LATENCY_WINDOW_S})
    ),
    figures as (
      select id as hop,
             count(*) filter (where processed_at > now() - make_interval(secs => ${RATE_WINDOW_S}))::float8 / ${RATE_WINDOW_S} as "perSecond",
             percentile_cont(0.5) within group (order by (extract(epoch from processed_at - available_at) * 1000)::float8) as "p50Ms",
             percentile_cont(0.99) within group (order by (extract(epoch from processed_at - available_at) * 1000)::float8) as "p99Ms",
             count(*) filter (where processed_at is null)::int as "inFlight"
      from delivered group by id
      union all
      -- The charge call's duration is not stored (settled_at is the processor's clock, created_at
      -- the database's), so this hop has a rate and an in-flight count but no latency.
      select 'payment.charge',
             count(*) filter (where created_at > now() - make_interval(secs => ${RATE_WINDOW_S}))::float8 / ${RATE_WINDOW_S},
             null::float8, null::float8,
             count(*) filter (where settled_at is null)::int
      from charged having count(*) > 0
    )
    select json_build_object(
      'now', now(),
      'statuses', (select coalesce(json_object_agg(status, n), '{}') from (select status, count(*)::int as n from orders.orders ${scope} group by status) s),
      'hops', (select coalesce(json_agg(f), '[]') from figures f),
      'recent', (select coalesce(json_agg(r), '[]') from (
        select id, status, created_at as "createdAt", updated_at as "updatedAt" from orders.orders ${scope}
        order by created_at desc, id desc limit ${LIST_LIMIT}) r),
      'inFlight', (select coalesce(json_agg(r), '[]') from (
        select id, status, created_at as "createdAt", updated_at as "updatedAt" from orders.orders
        where status in ('PENDING', 'RESERVED') ${scopeAnd}
        order by created_at, id limit ${LIST_LIMIT}) r),
      'stock', (select coalesce(json_agg(s), '[]') from (
        select s.product_id as "productId", p.sku, p.name, s.on_hand as "onHand", s.reserved, s.on_hand - s.reserved as available
        from inventory.stock s left join product.products p on p.id = s.product_id
        where s.orderable order by s.on_hand - s.reserved, s.updated_at desc limit ${LIST_LIMIT}) s),
      'outbox', (select json_build_object('due', count(*) filter (where available_at <= now()), 'scheduled', count(*) filter (where available_at > now()))
                 from platform.outbox where published_at is null)
    ) as snapshot`;
  return row!.snapshot;
}

export interface JourneyRows {
  now: string;
  order: {
    id: string;
    customerId: string;
    status: OrderStatus;
    total: number;
    currency: string;
    paymentAttempts: number;
    failureReason: string | null;
    createdAt: string;
    updatedAt: string;
  } | null;
  timeline: { at: string; status: string; detail: string }[];
  events: JourneyEvent[];
  payments: JourneyPayment[];
  reservations: {
    productId: string;
    quantity: number;
    status: string;
    createdAt: string;
    updatedAt: string;
  }[];
}

/** One order with everything that happened to it, in one round trip (all by order id). */
export async function readJourney(sql: Queryable, orderId: string, prefix: string): Promise<JourneyRows> {
  const [row] = await sql<{ journey: JourneyRows }[]>`
    with hop (topic, consumer) as (
      select * from unnest(${KAFKA_HOPS.map((h) => prefix + h.topic)}::text[], ${KAFKA_HOPS.map((h) => h.consumer)}::text[])
    )
    select json_build_object(
      'now', now(),
      'order', (select row_to_json(o) from (
        select id, customer_id as "customerId", status, total::float8 as total, currency, payment_attempts as "paymentAttempts",
               failure_reason as "failureReason", created_at as "createdAt", updated_at as "updatedAt"
        from orders.orders where id = ${orderId}) o),
      'timeline', (select coalesce(json_agg(t order by t.id), '[]') from (
        select id, at, status, detail from orders.timeline where order_id = ${orderId}) t),
      'events', (select coalesce(json_agg(e order by e.id), '[]') from (
        select o.id, substr(o.topic, ${prefix.length + 1}) as topic, o.payload->>'type' as type, o.created_at as "createdAt",
               o.available_at as "availableAt", o.published_at as "publishedAt",
               (select min(p.processed_at) from platform.processed_records p join hop h on h.consumer = p.consumer
                 where h.topic = o.topic and p.record_key = o.payload->>'eventId') as "appliedAt",
               o.payload->'data'->>'action' as action, (o.payload->'data'->>'attempt')::int as attempt
        from platform.outbox o where o.key = ${orderId}) e),
      'payments', (select coalesce(json_agg(p order by p.attempt), '[]') from (
        select attempt, status, failure_code as "failureCode", created_at as "createdAt", settled_at as "settledAt"
        from payment.payments where order_id = ${orderId}) p),
      'reservations', (select coalesce(json_agg(r), '[]') from (
        select product_id as "productId", quantity, status, created_at as "createdAt", updated_at as "updatedAt"
        from inventory.reservations where order_id = ${orderId}) r)
    ) as journey`;
  return row!.journey;
}
