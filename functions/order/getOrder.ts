/** GET /orders/{id}: one order. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.getOrder, async ({ params }) => steps.getOrder(params.id));
