/** DELETE /products/{id} (admin): soft delete, announced as product.deleted. */
import { httpHandler, reply } from '#layers/http/route';
import { deleteProduct } from './catalog.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.deleteProduct, async ({ params, requestId }) => {
  await deleteProduct(params.id, requestId);
  return reply(204);
});
