/** Routes of inventory's stock levels: public reads, admin writes. */
import { z } from 'zod';
import { defineRoute } from '#layers/http/route';

const StockParams = z.strictObject({
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

export const getStock = defineRoute({
  operationId: 'getStock',
  method: 'get',
  path: '/inventory/{productId}',
  summary: 'Stock level of a product (404 until inventory has learned of it)',
  tags: ['Inventory'],
  params: StockParams,
  response: { status: 200, description: 'The stock level', schema: Stock },
  problems: [404],
});

export const setStock = defineRoute({
  operationId: 'setStock',
  method: 'put',
  path: '/inventory/{productId}',
  summary: 'Set the units on hand (409 below what orders hold, or for a deleted product)',
  tags: ['Inventory'],
  admin: true,
  params: StockParams,
  body: StockChange,
  response: { status: 200, description: 'The stock level as set', schema: Stock },
  problems: [404, 409, 413, 415],
});

export const stockRoutes = [getStock, setStock];
