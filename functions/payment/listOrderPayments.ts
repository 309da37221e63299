/** GET /orders/{id}/payments: every charge attempt of an order. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.listOrderPayments, async ({ params }) =>
  steps.listOrderPayments(params.id),
);
