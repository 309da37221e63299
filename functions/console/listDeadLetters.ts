/** GET /console/dead-letters/{topic}: the newest dead letters of a topic. */
import { httpHandler } from '#layers/http/route';
import { deadLetters } from './console.ts';
import { getConsoleDeadLetters as route } from './routes.ts';

export const handler = httpHandler(route, async ({ params }) => deadLetters(params.topic));
