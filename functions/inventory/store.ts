/**
 * SQL of inventory (schema `inventory`): stock levels (inventory.stock: product_id, on_hand,
 * reserved, orderable) and reservations (inventory.reservations, the `reserved` column of
 * inventory.stock and inventory.closed_orders). Reserving and settling are one statement each,
 * sent in the same round trip as the order's advisory lock:
 * - the lock serialises the reservation and the settlement of one order (they arrive on different
 *   topics), and because the statement behind it is a separate statement, its snapshot is taken
 *   once the lock is granted, so it sees whatever the other committed;
 * - inside the statement the stock rows are locked (`for update`) in product-id order, so two
 *   orders that share products wait for each other instead of deadlocking, and the decision and
 *   the writes read the rows as locked: nothing between the lock and the write is left to the client.
 */
import type { PendingQuery, Row } from 'postgres';
import type { Queryable, Tx } from '#layers/db';
import type { Line, Refusal, StockRow } from './decisions.ts';

export async function selectStock(sql: Queryable, productId: string): Promise<StockRow | undefined> {
  const [row] = await sql<
    StockRow[]
  >`select product_id, on_hand, reserved, orderable from inventory.stock where product_id = ${productId}`;
  return row;
}

/** Locks the row so a concurrent reservation cannot slip between the check and the write. */
export async function lockStockRow(tx: Tx, productId: string): Promise<StockRow | undefined> {
  const [row] = await tx<StockRow[]>`
    select product_id, on_hand, reserved, orderable from inventory.stock where product_id = ${productId} for update`;
  return row;
}

export async function updateOnHand(tx: Tx, productId: string, onHand: number): Promise<StockRow> {
  const [row] = await tx<StockRow[]>`
    update inventory.stock set on_hand = ${onHand}, updated_at = now() where product_id = ${productId}
    returning product_id, on_hand, reserved, orderable`;
  return row!;
}

/** First row for a product. A row already there (a redelivery, or a delete seen first) wins. */
export async function insertStock(tx: Tx, productId: string, onHand: number): Promise<void> {
  await tx`insert into inventory.stock (product_id, on_hand) values (${productId}, ${onHand}) on conflict (product_id) do nothing`;
}

/**
 * Makes the product unorderable. product.deleted and product.created travel on different topics,
 * so the delete may arrive first: it then leaves a retired row that the late create cannot revive.
 */
export async function retireStock(tx: Tx, productId: string): Promise<void> {
  await tx`
    insert into inventory.stock (product_id, on_hand, orderable) values (${productId}, 0, false)
    on conflict (product_id) do update set orderable = false, updated_at = now()`;
}

export type ReservationOutcome =
  | { kind: 'held' }
  | { kind: 'refused'; refusal: Refusal }
  /** Nothing done: the order was closed first (`closed`), or this is a re-published order.placed. */
  | { kind: 'skipped'; closed: boolean };

/** Pipelines the order's advisory lock and `statement`: one round trip, statement after lock. */
async function underOrderLock<T extends readonly Row[]>(
  tx: Tx,
  orderId: string,
  statement: (tx: Tx) => PendingQuery<T>,
): Promise<T> {
  const lock =
    tx`select pg_advisory_xact_lock(hashtextextended(${`inventory.reservation:${orderId}`}, 0))`.execute();
  const rows = statement(tx).execute();
  const [, result] = await Promise.all([lock, rows]);
  return result;
}

interface ReserveRow {
  closed: boolean;
  alreadyHeld: boolean;
  heldLines: number;
  productId: string | null;
  quantity: number | null;
  available: number | null;
  orderable: boolean | null;
}

/**
 * Holds every line of the order or none (lines normalised: merged, in product-id order). A
 * refusal closes the order for good, so a re-published order.placed cannot reserve it later.
 * A product is orderable by inventory's own flag alone, which product.deleted clears.
 */
export async function reserveLines(
  tx: Tx,
  orderId: string,
  lines: readonly Line[],
): Promise<ReservationOutcome> {
  const products = lines.map((line) => line.productId);
  const quantities = lines.map((line) => line.quantity);
  const [row] = await underOrderLock(
    tx,
    orderId,
    (sql) => sql<ReserveRow[]>`
    with wanted as (
      select product_id, quantity from unnest(${products}::uuid[], ${quantities}::int[]) as w (product_id, quantity)
    ), state as (
      select exists (select 1 from inventory.closed_orders where order_id = ${orderId}) as closed,
             exists (select 1 from inventory.reservations where order_id = ${orderId}) as already_held
    ), locked as materialized (
      select s.product_id, s.on_hand - s.reserved as available, s.orderable
      from inventory.stock s
      where s.product_id = any(${products}::uuid[]) and not (select closed or already_held from state)
      order by s.product_id
      for update of s
    ), refusal as (
      select w.product_id, w.quantity, l.available, l.orderable
      from wanted w left join locked l using (product_id)
      where l.orderable is not true or l.available < w.quantity
      order by w.product_id
      limit 1
    ), held as (
      insert into inventory.reservations (order_id, product_id, quantity, status)
      select ${orderId}, product_id, quantity, 'HELD' from wanted
      where not (select closed or already_held from state) and not exists (select 1 from refusal)
      returning product_id, quantity
    ), raised as (
      update inventory.stock s set reserved = s.reserved + held.quantity, updated_at = now()
      from held where s.product_id = held.product_id
      returning s.product_id
    ), closed as (
      insert into inventory.closed_orders (order_id)
      select ${orderId} where not (select closed or already_held from state) and exists (select 1 from refusal)
      on conflict do nothing
    )
    select state.closed, state.already_held, (select count(*) from raised)::int as held_lines,
           refusal.product_id, refusal.quantity, refusal.available, refusal.orderable
    from state left join refusal on true`,
  );
  if (!row) throw new Error('the reservation statement returned no row');
  if (row.closed || row.alreadyHeld) return { kind: 'skipped', closed: row.closed };
  if (row.productId !== null) {
    return {
      kind: 'refused',
      refusal: {
        productId: row.productId,
        quantity: row.quantity!,
        available: row.available,
        orderable: row.orderable,
      },
    };
  }
  // The statement's own check: every line held, or the reservation would be partial.
  if (row.heldLines !== lines.length) {
    throw new Error(`order ${orderId}: ${row.heldLines} of ${lines.length} lines held; rolling back`);
  }
  return { kind: 'held' };
}

/**
 * Ends the order's HELD reservations and closes the order: COMMITTED takes the units off the
 * shelf (on hand and reserved both drop), RELEASED gives them back (reserved drops). Only HELD
 * rows change, so settling twice changes nothing. Returns the lines settled.
 */
export async function settleHeld(
  tx: Tx,
  orderId: string,
  outcome: 'COMMITTED' | 'RELEASED',
): Promise<Line[]> {
  const shelfDrop = outcome === 'COMMITTED';
  return underOrderLock(
    tx,
    orderId,
    (sql) => sql<Line[]>`
    with locked as materialized (
      select s.product_id from inventory.stock s
      where s.product_id in (select product_id from inventory.reservations where order_id = ${orderId} and status = 'HELD')
      order by s.product_id
      for update of s
    ), settled as (
      update inventory.reservations r set status = ${outcome}, updated_at = now()
      from locked where r.order_id = ${orderId} and r.status = 'HELD' and r.product_id = locked.product_id
      returning r.product_id, r.quantity
    ), lowered as (
      update inventory.stock s
      set reserved = s.reserved - settled.quantity,
          on_hand = s.on_hand - case when ${shelfDrop} then settled.quantity else 0 end,
          updated_at = now()
      from settled where s.product_id = settled.product_id
    ), closed as (
      insert into inventory.closed_orders (order_id) values (${orderId}) on conflict do nothing
    )
    select product_id, quantity from settled order by product_id`,
  );
}
