/** PUT /products/{id}/categories (admin): replaces the product's categories. */
import { httpHandler } from '#layers/http/route';
import { setProductCategories } from './catalog.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.setProductCategories, async ({ params, body, requestId }) =>
  setProductCategories(params.id, body.categoryIds, requestId),
);
