/**
 * Data of the product service's events (the `data` of the envelope in events.ts). Every event is
 * keyed by product id. Inventory creates a product's stock row from `product.created` (with its
 * initial stock) and marks it no longer orderable on `product.deleted`.
 */
import { z } from 'zod';

export const PRODUCT_EVENT_TYPES = {
  created: 'ProductCreated',
  updated: 'ProductUpdated',
  deleted: 'ProductDeleted',
} as const;

const Money = {
  /** Integer minor units. */
  price: z.number().int().nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/),
};

export const ProductCreatedData = z.object({
  productId: z.uuid(),
  sku: z.string(),
  name: z.string(),
  ...Money,
  initialStock: z.number().int().nonnegative(),
});
export type ProductCreatedData = z.infer<typeof ProductCreatedData>;

/** The product as it is after the change (a snapshot, so consumers need no earlier event). */
export const ProductUpdatedData = z.object({
  productId: z.uuid(),
  sku: z.string(),
  name: z.string(),
  ...Money,
  categoryIds: z.array(z.uuid()),
});
export type ProductUpdatedData = z.infer<typeof ProductUpdatedData>;

export const ProductDeletedData = z.object({
  productId: z.uuid(),
  sku: z.string(),
});
export type ProductDeletedData = z.infer<typeof ProductDeletedData>;
