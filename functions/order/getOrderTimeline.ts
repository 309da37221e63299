/** GET /orders/{id}/timeline: every transition, oldest first. */
import { httpHandler } from '#layers/http/route';
import { getTimeline } from './orders.ts';
import { getOrderTimeline as route } from './routes.ts';

export const handler = httpHandler(route, async ({ params }) => getTimeline(params.id));
