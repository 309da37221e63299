/**
 * Every HTTP route of shopstream, for the OpenAPI document. Each service declares its routes in
 * its own routes.ts; add the service's list here.
 */
import type { RouteSpec } from '#layers/http/route';
import { platformRoutes } from './platform/routes.ts';
import { orderRoutes } from './order/routes.ts';
import { paymentRoutes } from './payment/routes.ts';
import { productRoutes } from './product/routes.ts';
import { inventoryRoutes } from './inventory/routes.ts';
import { consoleRoutes } from './console/routes.ts';

export const API_INFO = {
  title: 'shopstream',
  version: '0.1.0',
  description:
    'Event-driven serverless shop backend. Money is an integer in minor units. Errors are RFC 9457 problem+json. Admin writes need the `x-api-key` header.',
};

export const allRoutes: readonly RouteSpec[] = [
  ...platformRoutes,
  ...productRoutes,
  ...inventoryRoutes,
  ...orderRoutes,
  ...paymentRoutes,
  ...consoleRoutes,
];
