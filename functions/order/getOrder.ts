/** GET /orders/{id}. */
import { httpHandler } from '#layers/http/route';
import { getOrder } from './orders.ts';
import { getOrder as route } from './routes.ts';

export const handler = httpHandler(route, async ({ params }) => getOrder(params.id));
