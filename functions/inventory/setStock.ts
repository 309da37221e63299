/** PUT /inventory/{productId} (admin): sets the units on hand. */
import { httpHandler } from '#layers/http/route';
import { setOnHand } from './stock-service.ts';
import * as routes from './stock-routes.ts';

export const handler = httpHandler(routes.setStock, async ({ params, body }) =>
  setOnHand(params.productId, body.onHand),
);
