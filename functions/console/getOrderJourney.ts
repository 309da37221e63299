/** GET /console/orders/{id}: one order's journey through the saga and where it stands. */
import { httpHandler } from '#layers/http/route';
import { orderJourney } from './console.ts';
import { getConsoleOrder as route } from './routes.ts';

export const handler = httpHandler(route, async ({ params }) => orderJourney(params.id));
