/**
 * SQL of the order service (orders.orders, order_items, timeline, and product_prices: its price
 * list, the only place placement learns prices from). The card number column is read only by
 * `startPaymentAttempt`, for the payment step; no view of an order includes it.
 */
import type { Queryable, Tx } from '#layers/db';
import type { Claim } from '#layers/kafka/consumer';
import { insertDue, type DraftRow } from '#layers/outbox';
import type { OrderStatus } from './decisions.ts';

export interface OrderRow {
  id: string;
  customerId: string;
  status: OrderStatus;
  total: number;
  currency: string;
  paymentAttempts: number;
  failureReason: string | null;
  requestHash: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ItemRow {
  orderId: string;
  productId: string;
  quantity: number;
  unitPrice: number;
}

const orderColumns = (sql: Queryable) =>
  sql`id, customer_id, status, total::float8 as total, currency, payment_attempts, failure_reason, request_hash, created_at, updated_at`;

/** One product of the order service's price list (orders.product_prices). */
export interface ListedPrice {
  productId: string;
  price: number;
  currency: string;
  deleted: boolean;
  version: number;
}

/** What the price list holds of the given products (a product it has not heard of is left out). */
export async function listedPrices(sql: Queryable, productIds: readonly string[]): Promise<ListedPrice[]> {
  return sql<ListedPrice[]>`
    select product_id, price::float8 as price, currency, deleted, version::float8 as version
    from orders.product_prices where product_id = any(${[...productIds]}::uuid[])`;
}

/**
 * Writes what was learned of products' prices (an event, or the product service's answer), each
 * only over an older version: created, updated and deleted arrive on different topics in any
 * order. `deleted` is sticky, so no snapshot from before the delete makes a product live again.
 * Rows go in product-id order, so two writers of the same products never deadlock.
 */
export async function learnPrices(sql: Queryable, prices: readonly ListedPrice[]): Promise<void> {
  if (!prices.length) return;
  const rows = [...prices]
    .sort((a, b) => a.productId.localeCompare(b.productId))
    .map((p) => ({
      product_id: p.productId,
      price: p.price,
      currency: p.currency,
      deleted: p.deleted,
      version: p.version,
    }));
  await sql`
    insert into orders.product_prices as p (product_id, price, currency, deleted, version)
    select product_id, price, currency, deleted, version
    from jsonb_to_recordset(${sql.json(rows)}) as x (product_id uuid, price bigint, currency char(3), deleted boolean, version bigint)
    on conflict (product_id) do update set
      price = case when excluded.version > p.version then excluded.price else p.price end,
      currency = case when excluded.version > p.version then excluded.currency else p.currency end,
      version = greatest(p.version, excluded.version),
      deleted = p.deleted or excluded.deleted,
      updated_at = now()
    where excluded.version > p.version or (excluded.deleted and not p.deleted)`;
}

export interface NewOrder {
  id: string;
  customerId: string;
  total: number;
  currency: string;
  idempotencyKey: string | null;
  requestHash: string;
  cardNumber: string;
  items: { productId: string; quantity: number; unitPrice: number }[];
}

/**
 * Writes a placed order in one statement (no transaction around it): the order row, its lines,
 * its PENDING timeline entry and its order.placed outbox row `placed` — all of them, or none when
 * the idempotency key is taken (then undefined). Returns the order and the outbox row's id.
 */
export async function insertPlacedOrder(
  sql: Queryable,
  order: NewOrder,
  note: string,
  placed: DraftRow,
): Promise<{ order: OrderRow; outboxId: string } | undefined> {
  const [row] = await sql<(OrderRow & { outboxId: string })[]>`
    with inserted as (
      insert into orders.orders (id, customer_id, status, total, currency, idempotency_key, request_hash, card_number, card_last4)
      values (${order.id}, ${order.customerId}, 'PENDING', ${order.total}, ${order.currency}, ${order.idempotencyKey}, ${order.requestHash},
              ${order.cardNumber}, ${order.cardNumber.slice(-4)})
      on conflict (idempotency_key) do nothing
      returning ${orderColumns(sql)}
    ), lines as (
      insert into orders.order_items (order_id, product_id, quantity, unit_price)
      select inserted.id, line.product_id, line.quantity, line.unit_price
      from inserted, unnest(${order.items.map((i) => i.productId)}::uuid[], ${order.items.map((i) => i.quantity)}::int[],
                            ${order.items.map((i) => i.unitPrice)}::bigint[]) as line (product_id, quantity, unit_price)
    ), timeline as (
      insert into orders.timeline (order_id, status, detail) select id, 'PENDING', ${note} from inserted
    ), announced as (
      ${insertDue(sql, placed, 'inserted')}
    )
    select inserted.*, (select id from announced) as outbox_id from inserted`;
  if (!row) return undefined;
  const { outboxId, ...orderRow } = row;
  return { order: orderRow, outboxId };
}

export async function findOrderByIdempotencyKey(sql: Queryable, key: string): Promise<OrderRow | undefined> {
  const [row] = await sql<
    OrderRow[]
  >`select ${orderColumns(sql)} from orders.orders where idempotency_key = ${key}`;
  return row;
}

export async function findOrder(sql: Queryable, id: string): Promise<OrderRow | undefined> {
  const [row] = await sql<OrderRow[]>`select ${orderColumns(sql)} from orders.orders where id = ${id}`;
  return row;
}

/** Locks the order row: every saga step and cancel serialise on it. */
export async function lockOrder(tx: Tx, id: string): Promise<OrderRow | undefined> {
  const [row] = await tx<
    OrderRow[]
  >`select ${orderColumns(tx)} from orders.orders where id = ${id} for update`;
  return row;
}

/**
 * Starts a payment step in one statement (under the order's row lock, for that statement only):
 * only while the order is RESERVED and awaits this attempt — the next one for a fresh charge (which
 * is recorded), the current one for a charge run again or an inquiry. Given `reservedNote` (the
 * timeline's words), the step is the first charge of a stock.reserved: a PENDING order becomes
 * RESERVED with attempt 1 and the timeline says so, once. Returns the order and, for a charge,
 * the card; undefined when the step is stale or the order moved on.
 */
export async function startPaymentAttempt(
  sql: Queryable,
  step: { orderId: string; attempt: number; charge: boolean; reservedNote?: string | undefined },
): Promise<(OrderRow & { cardNumber: string }) | undefined> {
  const reserving = step.reservedNote !== undefined;
  const [row] = await sql<(OrderRow & { cardNumber: string })[]>`
    with current as (
      select id, status as was from orders.orders where id = ${step.orderId} for update
    ), started as (
      update orders.orders o set
        status = 'RESERVED',
        payment_attempts = ${step.attempt},
        updated_at = case when o.status = 'RESERVED' and o.payment_attempts = ${step.attempt} then o.updated_at else now() end
      from current
      where o.id = current.id
        and (current.was = 'RESERVED' or (${reserving} and current.was = 'PENDING'))
        and (o.payment_attempts = ${step.attempt} or (${step.charge} and o.payment_attempts = ${step.attempt - 1}))
      returning o.*, current.was
    ), noted as (
      insert into orders.timeline (order_id, status, detail)
      select id, 'RESERVED', ${step.reservedNote ?? ''} from started where was = 'PENDING'
    )
    select ${orderColumns(sql)}, case when ${step.charge} then card_number else '' end as card_number
    from started`;
  return row;
}

/**
 * Ends an order with a payment step's answer in one statement (no transaction around it): only
 * while the order is RESERVED and awaits `attempt`, the order's row locked for that statement.
 * Writes the step's claim, the new status, the timeline entries (in their order) and the closing
 * event's outbox row `closing`, all of them or none. `'declined'`: the order moved on (nothing
 * written; the step's transaction decides what that means); `'duplicate'`: the claim was there
 * already.
 */
export async function endWithPaymentAnswer(
  sql: Queryable,
  claim: Claim,
  end: {
    orderId: string;
    attempt: number;
    status: 'COMPLETED' | 'FAILED';
    failureReason: string | undefined;
    timeline: { status: OrderStatus; detail: string }[];
  },
  closing: DraftRow,
): Promise<{ outboxId: string } | 'declined' | 'duplicate'> {
  const [row] = await sql<{ awaiting: boolean; outboxId: string | null }[]>`
    with awaiting as (
      select id from orders.orders
      where id = ${end.orderId} and status = 'RESERVED' and payment_attempts = ${end.attempt}
      for update
    ), claimed as (
      insert into platform.processed_records (consumer, record_key)
      select ${claim.consumer}, ${claim.recordKey} from awaiting
      on conflict do nothing
      returning 1
    ), ended as (
      update orders.orders o set
        status = ${end.status},
        failure_reason = coalesce(${end.failureReason ?? null}, o.failure_reason),
        updated_at = now()
      from awaiting
      where o.id = awaiting.id and exists (select from claimed)
      returning o.id
    ), noted as (
      insert into orders.timeline (order_id, status, detail)
      select ended.id, note.status, note.detail
      from ended, unnest(${end.timeline.map((entry) => entry.status)}::text[],
                         ${end.timeline.map((entry) => entry.detail)}::text[]) with ordinality as note (status, detail, n)
      order by note.n
    ), announced as (
      ${insertDue(sql, closing, 'ended')}
    )
    select exists (select from awaiting) as awaiting, (select id from announced) as outbox_id`;
  if (!row?.awaiting) return 'declined';
  return row.outboxId ? { outboxId: row.outboxId } : 'duplicate';
}

export async function updateOrder(
  tx: Tx,
  id: string,
  change: { status?: OrderStatus; paymentAttempts?: number; failureReason?: string | undefined },
): Promise<void> {
  await tx`
    update orders.orders set
      status = coalesce(${change.status ?? null}, status),
      payment_attempts = coalesce(${change.paymentAttempts ?? null}::int, payment_attempts),
      failure_reason = coalesce(${change.failureReason ?? null}, failure_reason),
      updated_at = now()
    where id = ${id}`;
}

export async function addTimeline(
  tx: Tx,
  orderId: string,
  status: OrderStatus,
  detail: string,
): Promise<void> {
  await tx`insert into orders.timeline (order_id, status, detail) values (${orderId}, ${status}, ${detail})`;
}

export async function itemsOf(sql: Queryable, orderIds: readonly string[]): Promise<ItemRow[]> {
  if (!orderIds.length) return [];
  return sql<ItemRow[]>`
    select order_id, product_id, quantity, unit_price::float8 as unit_price from orders.order_items
    where order_id = any(${[...orderIds]}::uuid[]) order by order_id, product_id`;
}

export async function timelineOf(
  sql: Queryable,
  orderId: string,
): Promise<{ at: Date; status: OrderStatus; detail: string }[]> {
  return sql`select at, status, detail from orders.timeline where order_id = ${orderId} order by id` as never;
}

/** One page, newest first; the cursor is the id of the last order of the previous page. */
export async function pageOfOrders(
  sql: Queryable,
  filter: { customerId?: string; status?: OrderStatus; limit: number; after?: string },
): Promise<OrderRow[]> {
  return sql<OrderRow[]>`
    select ${orderColumns(sql)} from orders.orders
    where true
      ${filter.customerId ? sql`and customer_id = ${filter.customerId}` : sql``}
      ${filter.status ? sql`and status = ${filter.status}` : sql``}
      ${filter.after ? sql`and (created_at, id) < (select created_at, id from orders.orders where id = ${filter.after})` : sql``}
    order by created_at desc, id desc
    limit ${filter.limit}`;
}
