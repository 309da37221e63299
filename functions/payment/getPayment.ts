/** GET /payments/{id}: the inquiry API. */
import { httpHandler } from '#layers/http/route';
import { getPayment } from './payments.ts';
import { getPayment as route } from './routes.ts';

export const handler = httpHandler(route, async ({ params }) => getPayment(params.id));
