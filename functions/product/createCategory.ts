/** POST /categories (admin). */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.createCategory, async ({ body }) => steps.createCategory(body));
