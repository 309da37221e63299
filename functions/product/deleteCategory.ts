/** DELETE /categories/{id} (admin). */
import { httpHandler, reply } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.deleteCategory, async ({ params }) => {
  await steps.deleteCategory(params.id);
  return reply(204);
});
