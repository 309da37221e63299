/**
 * Reservation decisions, pure: given an order's lines and the locked stock rows, reserve all or
 * nothing. A product with no stock row, a deleted (not orderable) product, or one without enough
 * available units rejects the whole order, naming the first offending product.
 */
export interface Line {
  productId: string;
  quantity: number;
}

export interface StockLevel {
  productId: string;
  onHand: number;
  reserved: number;
  orderable: boolean;
}

export type ReservationDecision = { kind: 'reserve'; lines: Line[] } | { kind: 'reject'; reason: string };

export class OutOfStockError extends Error {
  override name = 'OutOfStockError';
  readonly retryable = false;
}

/** Merges repeated products and sorts by product id: the order stock rows are locked in. */
export function normaliseLines(lines: readonly Line[]): Line[] {
  const merged = new Map<string, number>();
  for (const line of lines) merged.set(line.productId, (merged.get(line.productId) ?? 0) + line.quantity);
  return [...merged]
    .map(([productId, quantity]) => ({ productId, quantity }))
    .sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}

export function decideReservation(lines: readonly Line[], stock: readonly StockLevel[]): ReservationDecision {
  const byProduct = new Map(stock.map((level) => [level.productId, level]));
  const wanted = normaliseLines(lines);
  for (const line of wanted) {
    const level = byProduct.get(line.productId);
    if (!level) return { kind: 'reject', reason: `product ${line.productId} is unknown` };
    if (!level.orderable)
      return { kind: 'reject', reason: `product ${line.productId} can no longer be ordered` };
    const available = level.onHand - level.reserved;
    if (available < line.quantity) {
      return {
        kind: 'reject',
        reason: new OutOfStockError(
          `product ${line.productId}: ${line.quantity} requested, ${Math.max(0, available)} available`,
        ).message,
      };
    }
  }
  return { kind: 'reserve', lines: wanted };
}
