/** GET /orders/{id}/timeline: every transition of an order, oldest first. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.getOrderTimeline, async ({ params }) =>
  steps.getOrderTimeline(params.id),
);
