/** GET /inventory/{productId}: a product's stock level. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.getStock, async ({ params }) => steps.getStock(params.productId));
