/** PUT /inventory/{productId} (admin): sets the units on hand. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.setStock, async ({ params, body }) =>
  steps.setStock(params.productId, body.onHand),
);
