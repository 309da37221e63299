/** POST /products (admin): the product, its categories and product.created commit together. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.createProduct, async ({ body, requestId }) =>
  steps.createProduct(body, requestId),
);
