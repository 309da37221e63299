/** GET /products?categoryId=&q=&limit=&cursor=. */
import { httpHandler } from '#layers/http/route';
import { listProducts } from './catalog.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.listProducts, async ({ query }) => listProducts(query));
