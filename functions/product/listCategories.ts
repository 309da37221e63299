/** GET /categories. */
import { httpHandler } from '#layers/http/route';
import { listCategories } from './catalog.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.listCategories, async () => listCategories());
