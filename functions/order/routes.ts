/** HTTP routes of the order service (public: no admin key). */
import { z } from 'zod';
import { defineRoute } from '#layers/http/route';
import { ListOrdersQuery, OrderIdParams, OrderSchema, PlaceOrderBody, TimelineSchema } from './contract.ts';

export const placeOrder = defineRoute({
  operationId: 'placeOrder',
  method: 'post',
  path: '/orders',
  summary: 'Place an order (202: accepted as PENDING; the saga reserves stock and charges the card)',
  tags: ['Orders'],
  headers: z.object({
    'idempotency-key': z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Same key and body: the same order; same key, other body: 409'),
  }),
  body: PlaceOrderBody,
  response: { status: 202, description: 'The accepted order', schema: OrderSchema },
  problems: [409, 413, 415],
});

export const getOrder = defineRoute({
  operationId: 'getOrder',
  method: 'get',
  path: '/orders/{id}',
  summary: 'An order and its status',
  tags: ['Orders'],
  params: OrderIdParams,
  response: { status: 200, description: 'The order', schema: OrderSchema },
  problems: [404],
});

export const getOrderTimeline = defineRoute({
  operationId: 'getOrderTimeline',
  method: 'get',
  path: '/orders/{id}/timeline',
  summary: "Every transition of the order's saga, oldest first",
  tags: ['Orders'],
  params: OrderIdParams,
  response: { status: 200, description: 'The timeline', schema: TimelineSchema },
  problems: [404],
});

export const listOrders = defineRoute({
  operationId: 'listOrders',
  method: 'get',
  path: '/orders',
  summary: 'Orders, newest first, optionally of one customer or in one status (keyset pagination)',
  tags: ['Orders'],
  query: ListOrdersQuery,
  response: {
    status: 200,
    description: 'One page',
    schema: z
      .object({ items: z.array(OrderSchema), nextCursor: z.uuid().nullable() })
      .meta({ id: 'OrderPage' }),
  },
});

export const cancelOrder = defineRoute({
  operationId: 'cancelOrder',
  method: 'post',
  path: '/orders/{id}/cancel',
  summary:
    'Cancel an order that is not COMPLETED yet; its stock is released (cancelling a CANCELLED order is a no-op)',
  tags: ['Orders'],
  params: OrderIdParams,
  response: { status: 200, description: 'The cancelled order', schema: OrderSchema },
  problems: [404, 409],
});

export const orderRoutes = [placeOrder, getOrder, getOrderTimeline, listOrders, cancelOrder];
