/** GET /orders: newest first, keyset pagination. */
import { httpHandler } from '#layers/http/route';
import { listOrders } from './orders.ts';
import { listOrders as route } from './routes.ts';

export const handler = httpHandler(route, async ({ query }) => listOrders(query));
