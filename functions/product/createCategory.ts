/** POST /categories (admin). */
import { httpHandler } from '#layers/http/route';
import { createCategory } from './catalog.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.createCategory, async ({ body }) => createCategory(body));
