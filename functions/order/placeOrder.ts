/** POST /orders: accepts an order as PENDING (202); the saga takes it from there. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.placeOrder, async ({ body, headers }) =>
  steps.placeOrder(body, headers['idempotency-key']),
);
