/**
 * Inventory rules as plain functions. Stock levels: what a stock row shows to clients, and when an
 * admin may set the units on hand. Reservations: an order holds every line or none; the
 * all-or-nothing test itself runs inside the reservation statement (store.ts), because it must
 * read the stock rows under the same lock that writes them, so this module shapes what goes in
 * (lines merged and in lock order) and explains what comes out (why an order was refused).
 */
import { ConflictError } from '#layers/errors';
import type { Stock } from './contract.ts';

export interface StockRow {
  productId: string;
  onHand: number;
  reserved: number;
  orderable: boolean;
}

/** Units that can still be ordered: none once the product is deleted. */
export function toStockView(row: StockRow): Stock {
  return {
    productId: row.productId,
    onHand: row.onHand,
    reserved: row.reserved,
    available: row.orderable ? row.onHand - row.reserved : 0,
  };
}

/** On hand can never drop below what orders hold; a deleted product's stock is frozen. */
export function assertCanSetOnHand(row: StockRow, onHand: number): void {
  if (!row.orderable) {
    throw new ConflictError(`Product ${row.productId} has been deleted; its stock can no longer be changed.`);
  }
  if (onHand < row.reserved) {
    throw new ConflictError(
      `Cannot set on hand to ${onHand}: orders hold ${row.reserved} unit${row.reserved === 1 ? '' : 's'} of product ${row.productId}.`,
      {
        errors: [{ path: 'body.onHand', message: `Must be at least ${row.reserved} (reserved)` }],
      },
    );
  }
}

export interface Line {
  productId: string;
  quantity: number;
}

/**
 * The first line (in product order) the reservation statement could not hold: no stock row
 * (`orderable` null), a deleted product (`orderable` false), or fewer units available than asked.
 */
export interface Refusal {
  productId: string;
  quantity: number;
  available: number | null;
  orderable: boolean | null;
}

export class OutOfStockError extends Error {
  override name = 'OutOfStockError';
  readonly retryable = false;
}

/**
 * Merges repeated products and sorts by product id: the order stock rows are locked in. Ids are
 * lower-cased first, as Postgres compares uuids, so `A…` and `a…` are one product.
 */
export function normaliseLines(lines: readonly Line[]): Line[] {
  const merged = new Map<string, number>();
  for (const line of lines) {
    const productId = line.productId.toLowerCase();
    merged.set(productId, (merged.get(productId) ?? 0) + line.quantity);
  }
  return [...merged]
    .map(([productId, quantity]) => ({ productId, quantity }))
    .sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}

/** The stock.rejected reason: stable wording, which the order keeps as its failure reason. */
export function rejectionReason({ productId, quantity, available, orderable }: Refusal): string {
  if (orderable === null) return `product ${productId} is unknown`;
  if (!orderable) return `product ${productId} can no longer be ordered`;
  return new OutOfStockError(`product ${productId}: ${quantity} requested, ${available ?? 0} available`)
    .message;
}
