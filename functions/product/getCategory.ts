/** GET /categories/{id}. */
import { httpHandler } from '#layers/http/route';
import { getCategory } from './catalog.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.getCategory, async ({ params }) => getCategory(params.id));
