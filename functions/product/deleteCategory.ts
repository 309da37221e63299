/** DELETE /categories/{id} (admin). */
import { httpHandler, reply } from '#layers/http/route';
import { deleteCategory } from './catalog.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.deleteCategory, async ({ params }) => {
  await deleteCategory(params.id);
  return reply(204);
});
