/**
 * The inventory service's HTTP schemas: the single source of request validation, of the types the
 * code uses (`z.infer`) and of the OpenAPI document.
 */
import { z } from 'zod';

export const StockParams = z.strictObject({
  productId: z
    .uuid()
    .meta({ description: 'Product id (UUID)', example: '3f9a7c2e-5d1b-4c8e-9f0a-1b2c3d4e5f60' }),
});

export const Stock = z
  .object({
    productId: z.uuid(),
    onHand: z.number().int(),
    reserved: z.number().int().meta({ description: 'Held by orders in progress' }),
    available: z.number().int().meta({ description: 'onHand - reserved; 0 once the product is deleted' }),
  })
  .meta({
    id: 'Stock',
    example: { productId: '3f9a7c2e-5d1b-4c8e-9f0a-1b2c3d4e5f60', onHand: 25, reserved: 3, available: 22 },
  });

export const StockChange = z
  .strictObject({ onHand: z.number().int().min(0).max(1_000_000_000) })
  .meta({ id: 'StockChange', example: { onHand: 40 } });

export type Stock = z.infer<typeof Stock>;
