/**
 * SQL of inventory (schema `inventory`): stock levels (inventory.stock: product_id, on_hand,
 * reserved, orderable) and reservations (inventory.reservations, the `reserved` column of
 * inventory.stock and inventory.closed_orders). Reserving is the SQL function
 * inventory.reserve_order (migration 0009: how it locks is written there), called in a
 * transaction or as a statement of its own (both `reserveLines`); settling is
 * inventory.settle_order (migration 0010), the same two ways (`settleHeld`). Both take the
 * order's advisory lock first, which serialises the reservation and the settlement of one order
 * (they arrive on different topics).
 */
import type { Queryable, Tx } from '#layers/db';
import type { Claim } from '#layers/kafka/consumer';
import type { DraftRow } from '#layers/outbox';
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

/** What inventory.reserve_order did (migration 0009 documents each outcome). */
export type ReservationOutcome =
  /** Every line held; `outboxId` is the stock.reserved row it wrote, when it was given one. */
  | { kind: 'held'; outboxId: string | null }
  | { kind: 'refused'; refusal: Refusal }
  /** Nothing done: the order was closed first (`closed`), or this is a re-published order.placed. */
  | { kind: 'skipped'; closed: boolean }
  /** Nothing written (one statement of its own only): a refusal, left to the transaction. */
  | { kind: 'declined' }
  /** Nothing written (one statement of its own only): the claim was there, the record applied before. */
  | { kind: 'duplicate' };

interface ReserveRow {
  outcome: 'held' | 'refused' | 'declined' | 'closed' | 'already_held' | 'duplicate';
  outboxId: string | null;
  productId: string | null;
  quantity: number | null;
  available: number | null;
  orderable: boolean | null;
}

/**
 * Calls inventory.reserve_order: in the caller's transaction (`claim` and `reserved` unset; a
 * refusal closes the order and is answered `refused`), or as a statement of its own, which also
 * writes the consumer's claim and, when every line is held, the stock.reserved outbox row
 * `reserved` (a refusal is then `declined`: its event is worded here, so the record is left to a
 * transaction). Lines normalised: merged, in product-id order. A refusal closes the order for
 * good, so a re-published order.placed cannot reserve it later; a product is orderable by
 * inventory's own flag alone, which product.deleted clears.
 */
export async function reserveLines(
  sql: Queryable,
  orderId: string,
  lines: readonly Line[],
  alone?: { claim: Claim; reserved: DraftRow },
): Promise<ReservationOutcome> {
  const [row] = await sql<ReserveRow[]>`
    select * from inventory.reserve_order(
      ${orderId}, ${lines.map((l) => l.productId)}::uuid[], ${lines.map((l) => l.quantity)}::int[],
      ${alone?.claim.consumer ?? null}, ${alone?.claim.recordKey ?? null},
      ${alone ? sql.json(alone.reserved as never) : null}, ${Boolean(alone)})`;
  const { outcome, outboxId, productId, quantity, available, orderable } = row!;
  switch (outcome) {
    case 'held':
      return { kind: 'held', outboxId };
    case 'closed':
    case 'already_held':
      return { kind: 'skipped', closed: outcome === 'closed' };
    case 'refused':
      return {
        kind: 'refused',
        refusal: { productId: productId!, quantity: quantity!, available, orderable },
      };
    case 'declined':
    case 'duplicate':
      return { kind: outcome };
  }
}

type Settlement = 'COMMITTED' | 'RELEASED';

/**
 * Calls inventory.settle_order (migration 0010): ends the order's HELD reservations and closes the
 * order — COMMITTED takes the units off the shelf, RELEASED gives them back; settling twice
 * changes nothing. In the caller's transaction, or, given the consumer's `claim`, as a statement of
 * its own that also writes the claim (`'duplicate'` when it was there: nothing written). Returns
 * the lines settled.
 */
export async function settleHeld(sql: Queryable, orderId: string, outcome: Settlement): Promise<Line[]>;
export async function settleHeld(
  sql: Queryable,
  orderId: string,
  outcome: Settlement,
  claim: Claim,
): Promise<Line[] | 'duplicate'>;
export async function settleHeld(
  sql: Queryable,
  orderId: string,
  outcome: Settlement,
  claim?: Claim,
): Promise<Line[] | 'duplicate'> {
  const rows = await sql<{ duplicate: boolean; productId: string; quantity: number }[]>`
    select * from inventory.settle_order(${orderId}, ${outcome}, ${claim?.consumer ?? null}, ${claim?.recordKey ?? null})`;
  if (rows[0]?.duplicate) return 'duplicate';
  return rows.map(({ productId, quantity }) => ({ productId, quantity }));
}
