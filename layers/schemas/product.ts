/**
 * The contract of the product service's Lambda Invoke API (order → product, RequestResponse):
 * `getProductPrices`, which placement asks about products its price list has not heard of yet (a
 * product created a moment ago, whose product.created the order service has not applied). The
 * answer has the events' fields, version included, so it fills the same price list.
 */
import { z } from 'zod';

/** At most one order's worth of products (its lines are merged per product). */
export const MAX_PRICE_LOOKUP = 50;

export const ProductPricesRequest = z.object({
  productIds: z.array(z.uuid()).min(1).max(MAX_PRICE_LOOKUP),
});
export type ProductPricesRequest = z.infer<typeof ProductPricesRequest>;

/** One product the catalog knows, deleted or not; a product it does not know is left out. */
export const ProductPrice = z.object({
  productId: z.uuid(),
  /** Integer minor units. */
  price: z.number().int().nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  deleted: z.boolean(),
  version: z.number().int().positive(),
});
export type ProductPrice = z.infer<typeof ProductPrice>;

export const ProductPrices = z.array(ProductPrice);
export type ProductPrices = z.infer<typeof ProductPrices>;
