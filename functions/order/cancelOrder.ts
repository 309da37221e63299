/** POST /orders/{id}/cancel: cancels an order that is not yet COMPLETED. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.cancelOrder, async ({ params }) => steps.cancelOrder(params.id));
