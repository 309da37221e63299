/** DELETE /products/{id} (admin): soft delete, announced as product.deleted. */
import { httpHandler, reply } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.deleteProduct, async ({ params, requestId }) => {
  await steps.deleteProduct(params.id, requestId);
  return reply(204);
});
