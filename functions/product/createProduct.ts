/** POST /products (admin): the product, its categories and product.created commit together. */
import { httpHandler } from '#layers/http/route';
import { createProduct } from './catalog.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.createProduct, async ({ body, requestId }) =>
  createProduct(body, requestId),
);
