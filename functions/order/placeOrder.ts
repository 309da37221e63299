/** POST /orders: accepts an order as PENDING (202); the saga takes it from there. */
import { httpHandler } from '#layers/http/route';
import { placeOrder } from './orders.ts';
import { placeOrder as route } from './routes.ts';

export const handler = httpHandler(route, async ({ body, headers }) =>
  placeOrder(body, headers['idempotency-key']),
);
