/** GET /products/{id}. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.getProduct, async ({ params }) => steps.getProduct(params.id));
