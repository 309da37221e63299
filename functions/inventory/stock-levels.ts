/**
 * Stock-level rules as plain functions: what a stock row shows to clients, and when an admin may
 * set the units on hand.
 */
import { ConflictError } from '#layers/errors';

export interface StockRow {
  productId: string;
  onHand: number;
  reserved: number;
  orderable: boolean;
}

export interface StockView {
  productId: string;
  onHand: number;
  reserved: number;
  available: number;
}

/** Units that can still be ordered: none once the product is deleted. */
export function toStockView(row: StockRow): StockView {
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
