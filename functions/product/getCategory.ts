/** GET /categories/{id}. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.getCategory, async ({ params }) => steps.getCategory(params.id));
