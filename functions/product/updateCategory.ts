/** PATCH /categories/{id} (admin). */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.updateCategory, async ({ params, body }) =>
  steps.updateCategory(params.id, body),
);
