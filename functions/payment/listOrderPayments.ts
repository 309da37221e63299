/** GET /orders/{id}/payments: every charge attempt of an order. */
import { httpHandler } from '#layers/http/route';
import { listPayments } from './payments.ts';
import { listOrderPayments as route } from './routes.ts';

export const handler = httpHandler(route, async ({ params }) => listPayments(params.id));
