/**
 * The payment service's HTTP schemas (its Lambda Invoke API is in layers/schemas/payment.ts, shared
 * with its caller): the single source of validation, types (`z.infer`) and the OpenAPI document.
 */
import { z } from 'zod';
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
export type PaymentView = z.infer<typeof PaymentSchema>;

export const PaymentIdParams = z.object({ id: z.uuid() });
export const OrderIdParams = z.object({ id: z.uuid() });

export const PaymentList = z.object({ items: z.array(PaymentSchema) }).meta({ id: 'PaymentList' });
