/** POST /console/dead-letters/{topic}/replay (admin key): the dead letters go back to their topic, once. */
import { httpHandler } from '#layers/http/route';
import { replayDeadLetters } from './console.ts';
import { replayConsoleDeadLetters as route } from './routes.ts';

// Leave the Lambda time to answer: a replay cut short has committed what it sent.
const ANSWER_MARGIN_MS = 3000;

export const handler = httpHandler(route, async ({ params }, context) =>
  replayDeadLetters(params.topic, context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS),
);
