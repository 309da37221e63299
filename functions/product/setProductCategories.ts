/** PUT /products/{id}/categories (admin): replaces the product's categories. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.setProductCategories, async ({ params, body, requestId }) =>
  steps.setProductCategories(params.id, body.categoryIds, requestId),
);
