/**
 * The order service's HTTP schemas: the single source of request validation, of the types the code
 * uses (`z.infer`) and of the OpenAPI document. A placed order's prices come from the catalog,
 * never from the client, so the body is strict: an unexpected field (say, a price) is a 400, not
 * silently ignored.
 */
import { z } from 'zod';
import { isWellFormedCardNumber, ORDER_STATUSES } from './decisions.ts';

export const MAX_ITEMS = 50;
export const MAX_QUANTITY = 1000;

const ExampleIds = {
  order: '8d2f4b7e-1c3a-4e5f-9a8b-7c6d5e4f3a2b',
  customer: '5b1e0a4c-9d8f-4a7b-8c6d-1e2f3a4b5c6d',
  product: '1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d',
};

export const OrderStatusSchema = z.enum(ORDER_STATUSES).meta({ id: 'OrderStatus' });

export const PlaceOrderBody = z
  .strictObject({
    customerId: z.uuid(),
    items: z
      .array(z.strictObject({ productId: z.uuid(), quantity: z.number().int().min(1).max(MAX_QUANTITY) }))
      .min(1)
      .max(MAX_ITEMS)
      .describe(
        'Lines of the order; a product listed twice is merged into one line (at most 1000 units in all)',
      ),
    payment: z.strictObject({
      cardNumber: z
        .string()
        .regex(/^\d{13,19}$/, 'must be 13 to 19 digits')
        .refine(isWellFormedCardNumber, 'fails the Luhn check')
        .describe('Charged on every payment attempt; only its last four digits are ever shown'),
    }),
  })
  .meta({
    id: 'PlaceOrder',
    example: {
      customerId: ExampleIds.customer,
      items: [{ productId: ExampleIds.product, quantity: 2 }],
      payment: { cardNumber: '4242424242424242' },
    },
  });
export type PlaceOrderBody = z.infer<typeof PlaceOrderBody>;

export const OrderSchema = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    status: OrderStatusSchema,
    items: z.array(
      z.object({ productId: z.uuid(), quantity: z.number().int(), unitPrice: z.number().int() }),
    ),
    total: z.number().int(),
    currency: z.string(),
    paymentAttempts: z.number().int(),
    failureReason: z.string().optional(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({
    id: 'Order',
    example: {
      id: ExampleIds.order,
      customerId: ExampleIds.customer,
      status: 'PENDING',
      items: [{ productId: ExampleIds.product, quantity: 2, unitPrice: 1999 }],
      total: 3998,
      currency: 'USD',
      paymentAttempts: 0,
      createdAt: '2026-01-01T12:00:00.000Z',
      updatedAt: '2026-01-01T12:00:00.000Z',
    },
  });
export type OrderView = z.infer<typeof OrderSchema>;

export const TimelineSchema = z
  .object({
    items: z.array(z.object({ at: z.iso.datetime(), status: OrderStatusSchema, detail: z.string() })),
  })
  .meta({
    id: 'OrderTimeline',
    example: {
      items: [
        { at: '2026-01-01T12:00:00.000Z', status: 'PENDING', detail: 'order placed: 1 line, total 3998 USD' },
      ],
    },
  });
export type TimelineView = z.infer<typeof TimelineSchema>;

export const OrderIdParams = z.object({ id: z.uuid() });

export const ListOrdersQuery = z.object({
  customerId: z.uuid().optional(),
  status: OrderStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.uuid().optional().describe('nextCursor of the previous page'),
});
