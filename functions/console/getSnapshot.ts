/** GET /console/snapshot: what the live console shows, polled by the page every second. */
import { httpHandler } from '#layers/http/route';
import { snapshot } from './console.ts';
import { getConsoleSnapshot as route } from './routes.ts';

export const handler = httpHandler(route, async ({ query }) => snapshot(query.customerId));
