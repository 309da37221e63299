/** getProductPrices: the catalog's prices for the order service, through the Lambda Invoke API. */
import { invokeHandler } from '#layers/invoke';
import { ProductPricesRequest } from '#layers/schemas/product';
import * as steps from './steps.ts';

export const handler = invokeHandler(ProductPricesRequest, (request) =>
  steps.getProductPrices(request.productIds),
);
