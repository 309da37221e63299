/**
 * SQL of stock levels (inventory.stock: product_id, on_hand, reserved, orderable). Reservations
 * change `reserved` elsewhere (reservation-repository.ts); this module creates rows, retires them
 * and sets `on_hand`.
 */
import type { Queryable, Tx } from '#layers/db';
import type { StockRow } from './stock-levels.ts';

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
