/** GET /inventory/{productId}. */
import { httpHandler } from '#layers/http/route';
import { getStock } from './stock-service.ts';
import * as routes from './stock-routes.ts';

export const handler = httpHandler(routes.getStock, async ({ params }) => getStock(params.productId));
