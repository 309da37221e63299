/** GET /orders: a page of orders, newest first. */
import { httpHandler } from '#layers/http/route';
import * as routes from './routes.ts';
import * as steps from './steps.ts';

export const handler = httpHandler(routes.listOrders, async ({ query }) => steps.listOrders(query));
