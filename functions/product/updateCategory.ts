/** PATCH /categories/{id} (admin). */
import { httpHandler } from '#layers/http/route';
import { updateCategory } from './catalog.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.updateCategory, async ({ params, body }) =>
  updateCategory(params.id, body),
);
