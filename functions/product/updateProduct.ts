/** PATCH /products/{id} (admin): a partial update, announced as product.updated. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.updateProduct, async ({ params, body, requestId }) =>
  steps.updateProduct(params.id, body, requestId),
);
