/** GET /products/{id}. */
import { httpHandler } from '#layers/http/route';
import { getProduct } from './catalog.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.getProduct, async ({ params }) => getProduct(params.id));
