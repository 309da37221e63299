/** GET /products?categoryId=&q=&limit=&cursor=. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.listProducts, async ({ query }) => steps.listProducts(query));
