/** GET /payments/{id}: the inquiry API. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.getPayment, async ({ params }) => steps.getPayment(params.id));
