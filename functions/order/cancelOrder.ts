/** POST /orders/{id}/cancel. */
import { httpHandler } from '#layers/http/route';
import { cancelOrder } from './orders.ts';
import { cancelOrder as route } from './routes.ts';

export const handler = httpHandler(route, async ({ params }) => cancelOrder(params.id));
