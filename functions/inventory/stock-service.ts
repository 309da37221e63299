/**
 * Stock levels: reading and setting a product's units on hand, and following the catalog's
 * product.created / product.deleted events (inventory learns of products only through them).
 */
import { db, type Tx } from '#layers/db';
import { NotFoundError } from '#layers/errors';
import type { ProductCreatedData, ProductDeletedData } from '#layers/schemas/product-events';
import { assertCanSetOnHand, toStockView, type StockView } from './stock-levels.ts';
import * as repo from './stock-repository.ts';

const noStock = (productId: string) =>
  new NotFoundError(
    `No stock for product ${productId}: the product does not exist, or inventory has not yet learned of it.`,
  );

export async function getStock(productId: string): Promise<StockView> {
  const row = await repo.selectStock(db(), productId);
  if (!row) throw noStock(productId);
  return toStockView(row);
}

export async function setOnHand(productId: string, onHand: number): Promise<StockView> {
  return db().begin(async (tx) => {
    const row = await repo.lockStockRow(tx, productId);
    if (!row) throw noStock(productId);
    assertCanSetOnHand(row, onHand);
    return toStockView(await repo.updateOnHand(tx, productId, onHand));
  }) as Promise<StockView>;
}

export async function stockForNewProduct(tx: Tx, event: ProductCreatedData): Promise<void> {
  await repo.insertStock(tx, event.productId, event.initialStock);
}

export async function retireDeletedProduct(tx: Tx, event: ProductDeletedData): Promise<void> {
  await repo.retireStock(tx, event.productId);
}
