/** HTTP routes of the payment service: the inquiry API and an order's payment attempts. */
import { z } from 'zod';
import { defineRoute } from '#layers/http/route';
import { PaymentStatus } from '#layers/schemas/payment';

export const PaymentSchema = z
  .object({
    id: z.uuid(),
    orderId: z.uuid(),
    attempt: z.number().int(),
    amount: z.number().int(),
    currency: z.string(),
    status: PaymentStatus,
    failureCode: z.string().optional(),
    cardLast4: z.string(),
    createdAt: z.iso.datetime(),
    settledAt: z.iso.datetime().optional(),
  })
  .meta({
    id: 'Payment',
    example: {
      id: '3f0d1c2e-5b6a-5c7d-8e9f-0a1b2c3d4e5f',
      orderId: '8d2f4b7e-1c3a-4e5f-9a8b-7c6d5e4f3a2b',
      attempt: 1,
      amount: 3998,
      currency: 'USD',
      status: 'APPROVED',
      cardLast4: '4242',
      createdAt: '2026-01-01T12:00:00.000Z',
      settledAt: '2026-01-01T12:00:00.120Z',
    },
  });

export const getPayment = defineRoute({
  operationId: 'getPayment',
  method: 'get',
  path: '/payments/{id}',
  summary: 'The inquiry API: how one charge attempt ended (its id is a UUIDv5 of orderId:attempt)',
  tags: ['Payments'],
  params: z.object({ id: z.uuid() }),
  response: { status: 200, description: 'The payment', schema: PaymentSchema },
  problems: [404],
});

export const listOrderPayments = defineRoute({
  operationId: 'listOrderPayments',
  method: 'get',
  path: '/orders/{id}/payments',
  summary: 'Every charge attempt of an order, oldest first (empty for an order never charged)',
  tags: ['Payments'],
  params: z.object({ id: z.uuid() }),
  response: {
    status: 200,
    description: 'The attempts',
    schema: z.object({ items: z.array(PaymentSchema) }).meta({ id: 'PaymentList' }),
  },
});

export const paymentRoutes = [getPayment, listOrderPayments];
