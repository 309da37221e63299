/** PATCH /products/{id} (admin): a partial update, announced as product.updated. */
import { httpHandler } from '#layers/http/route';
import { updateProduct } from './catalog.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.updateProduct, async ({ params, body, requestId }) =>
  updateProduct(params.id, body, requestId),
);
