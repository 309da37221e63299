/**
 * SQL of stock reservations (inventory.reservations and the `reserved` column of inventory.stock).
 * Stock rows are always locked in product-id order, so two transactions that touch the same
 * products wait for each other instead of deadlocking.
 */
import type { Tx } from '#layers/db';
import type { Line, StockLevel } from './reservations.ts';

/**
 * Locks the stock rows of the given products (sorted ids), reading whether each may be ordered:
 * inventory's own `orderable` flag, and — as a read-only shortcut across schemas — the catalog's
 * soft delete, in case the product.deleted event has not been applied yet.
 */
export async function lockStock(tx: Tx, productIds: readonly string[]): Promise<StockLevel[]> {
  const sorted = [...productIds].sort();
  return tx<StockLevel[]>`
    select s.product_id, s.on_hand, s.reserved,
           s.orderable and not exists (select 1 from product.products p where p.id = s.product_id and p.deleted_at is not null) as orderable
    from inventory.stock s
    where s.product_id = any(${sorted}::uuid[])
    order by s.product_id
    for update of s`;
}

/**
 * Serialises the reservation and the settlement of one order (they arrive on different topics):
 * without it, a cancel settling "nothing held" could interleave with the reservation it overtook.
 */
export async function lockOrderReservation(tx: Tx, orderId: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${`inventory.reservation:${orderId}`}, 0))`;
}

export async function isClosed(tx: Tx, orderId: string): Promise<boolean> {
  const [row] = await tx`select 1 from inventory.closed_orders where order_id = ${orderId}`;
  return Boolean(row);
}

export async function markClosed(tx: Tx, orderId: string): Promise<void> {
  await tx`insert into inventory.closed_orders (order_id) values (${orderId}) on conflict do nothing`;
}

export async function hasReservations(tx: Tx, orderId: string): Promise<boolean> {
  const [row] = await tx`select 1 from inventory.reservations where order_id = ${orderId} limit 1`;
  return Boolean(row);
}

export async function holdLines(tx: Tx, orderId: string, lines: readonly Line[]): Promise<void> {
  const rows = lines.map((line) => ({
    orderId,
    productId: line.productId,
    quantity: line.quantity,
    status: 'HELD',
  }));
  await tx`insert into inventory.reservations ${tx(rows, 'orderId', 'productId', 'quantity', 'status')}`;
  const products = lines.map((line) => line.productId);
  const quantities = lines.map((line) => line.quantity);
  await tx`
    update inventory.stock s set reserved = s.reserved + l.quantity, updated_at = now()
    from unnest(${products}::uuid[], ${quantities}::int[]) as l(product_id, quantity)
    where s.product_id = l.product_id`;
}

/**
 * Ends the order's HELD reservations: COMMITTED takes the units off the shelf (on hand and
 * reserved both drop), RELEASED gives them back (reserved drops). Only HELD rows change, so
 * settling twice changes nothing. Returns the lines settled.
 */
export async function settleHeld(
  tx: Tx,
  orderId: string,
  outcome: 'COMMITTED' | 'RELEASED',
): Promise<Line[]> {
  const held = await tx<Line[]>`
    select product_id, quantity from inventory.reservations
    where order_id = ${orderId} and status = 'HELD' order by product_id for update`;
  if (!held.length) return [];
  await lockStock(
    tx,
    held.map((line) => line.productId),
  );
  await tx`update inventory.reservations set status = ${outcome}, updated_at = now() where order_id = ${orderId} and status = 'HELD'`;
  const products = held.map((line) => line.productId);
  const quantities = held.map((line) => line.quantity);
  const shelfDrop = outcome === 'COMMITTED';
  await tx`
    update inventory.stock s
    set reserved = s.reserved - l.quantity,
        on_hand = s.on_hand - case when ${shelfDrop} then l.quantity else 0 end,
        updated_at = now()
    from unnest(${products}::uuid[], ${quantities}::int[]) as l(product_id, quantity)
    where s.product_id = l.product_id`;
  return held;
}
