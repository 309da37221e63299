/** HTTP routes of the inventory service: public reads of stock levels, admin writes. */
import { defineRoute } from '#layers/http/route';
import { Stock, StockChange, StockParams } from './contract.ts';

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

export const inventoryRoutes = [getStock, setStock];
