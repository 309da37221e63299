/**
 * The product service's operations, one per function. Every product change commits together
 * with its event in the outbox (product.created carries the initial stock: that is how inventory
 * learns of a new product; product.deleted is how it stops selling one) and counts up the
 * product's version, which the events carry so that their consumers can tell an old snapshot from
 * a new one. getProductPrices answers the order service's Invoke API.
 */
import { randomUUID } from 'node:crypto';
import { db, type Tx } from '#layers/db';
import { NotFoundError } from '#layers/errors';
import { ProductCreated, ProductDeleted, ProductUpdated } from '#layers/events';
import { inTransaction, publish } from '#layers/outbox';
import type { ProductPrices } from '#layers/schemas/product';
import {
  assertCategoriesExist,
  chooseSlug,
  containsPattern,
  decodeCursor,
  distinctIds,
  encodeCursor,
} from './decisions.ts';
import * as store from './store.ts';
import type {
  Category,
  CategoryChanges,
  NewCategory,
  NewProduct,
  Product,
  ProductChanges,
  ProductListQuery,
} from './contract.ts';

const categoryNotFound = (id: string) => new NotFoundError(`No category with id ${id}.`);
const productNotFound = (id: string) => new NotFoundError(`No product with id ${id}.`);

// ── categories ────────────────────────────────────────────────────────────────────────────────

export async function createCategory(input: NewCategory): Promise<Category> {
  return store.insertCategory(db(), {
    id: randomUUID(),
    name: input.name,
    slug: chooseSlug(input.name, input.slug),
  });
}

export async function listCategories(): Promise<{ items: Category[] }> {
  return { items: await store.selectCategories(db()) };
}

export async function getCategory(id: string): Promise<Category> {
  const category = await store.selectCategory(db(), id);
  if (!category) throw categoryNotFound(id);
  return category;
}

export async function updateCategory(id: string, changes: CategoryChanges): Promise<Category> {
  const category = await store.updateCategory(db(), id, changes);
  if (!category) throw categoryNotFound(id);
  return category;
}

/** Removes the category; products that were in it simply are no longer. */
export async function deleteCategory(id: string): Promise<void> {
  if (!(await store.deleteCategory(db(), id))) throw categoryNotFound(id);
}

// ── products ──────────────────────────────────────────────────────────────────────────────────

export async function createProduct(input: NewProduct, correlationId?: string): Promise<Product> {
  const id = randomUUID();
  const categoryIds = distinctIds(input.categoryIds);
  return inTransaction(async (tx) => {
    assertCategoriesExist(input.categoryIds, await store.existingCategoryIds(tx, categoryIds));
    const record = {
      id,
      sku: input.sku,
      name: input.name,
      description: input.description ?? null,
      price: input.price,
      currency: input.currency,
    };
    await store.insertProduct(tx, record);
    await store.replaceProductCategories(tx, id, categoryIds);
    await publish(
      tx,
      ProductCreated,
      {
        productId: id,
        sku: record.sku,
        name: record.name,
        price: record.price,
        currency: record.currency,
        version: 1,
        initialStock: input.initialStock,
      },
      { correlationId },
    );
    return (await store.selectProduct(tx, id))!;
  });
}

export async function getProduct(id: string): Promise<Product> {
  const product = await store.selectProduct(db(), id);
  if (!product) throw productNotFound(id);
  return product;
}

export async function listProducts(
  query: ProductListQuery,
): Promise<{ items: Product[]; nextCursor: string | null }> {
  const page = await store.selectProductPage(db(), {
    limit: query.limit + 1, // one more than asked tells whether another page follows
    ...(query.categoryId ? { categoryId: query.categoryId } : {}),
    ...(query.q ? { pattern: containsPattern(query.q) } : {}),
    ...(query.cursor ? { after: decodeCursor(query.cursor) } : {}),
  });
  const items = page.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items: items.map((entry) => entry.product),
    nextCursor: page.length > query.limit && last ? encodeCursor(last.key) : null,
  };
}

export async function updateProduct(
  id: string,
  changes: ProductChanges,
  correlationId?: string,
): Promise<Product> {
  return inTransaction(async (tx) => {
    const record = await store.updateProduct(tx, id, changes);
    if (!record) throw productNotFound(id);
    await publishUpdated(tx, record, correlationId);
    return (await store.selectProduct(tx, id))!;
  });
}

export async function setProductCategories(
  id: string,
  categoryIds: readonly string[],
  correlationId?: string,
): Promise<Product> {
  const distinct = distinctIds(categoryIds);
  return inTransaction(async (tx) => {
    const record = await store.lockProduct(tx, id);
    if (!record) throw productNotFound(id);
    assertCategoriesExist(categoryIds, await store.existingCategoryIds(tx, distinct));
    await store.replaceProductCategories(tx, id, distinct);
    await publishUpdated(tx, record, correlationId);
    return (await store.selectProduct(tx, id))!;
  });
}

/** Soft-deletes: orders keep their references, the sku is free again, inventory stops selling it. */
export async function deleteProduct(id: string, correlationId?: string): Promise<void> {
  await inTransaction(async (tx) => {
    const deleted = await store.softDeleteProduct(tx, id);
    if (!deleted) throw productNotFound(id);
    const { sku, price, currency, version } = deleted;
    await publish(tx, ProductDeleted, { productId: id, sku, price, currency, version }, { correlationId });
  });
}

/** getProductPrices (Invoke API): what placement asks about products it has not heard of yet. */
export async function getProductPrices(productIds: readonly string[]): Promise<ProductPrices> {
  return store.selectPrices(db(), productIds);
}

async function publishUpdated(
  tx: Tx,
  record: store.VersionedRecord,
  correlationId: string | undefined,
): Promise<void> {
  const data = {
    productId: record.id,
    sku: record.sku,
    name: record.name,
    price: record.price,
    currency: record.currency,
    version: record.version,
    categoryIds: await store.categoryIdsOf(tx, record.id),
  };
  await publish(tx, ProductUpdated, data, { correlationId });
}
