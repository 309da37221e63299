/**
 * The contract of the payment service's Lambda Invoke API (order → payment, RequestResponse):
 * `chargePayment`, `inquirePayment` and `voidPayments`. The payment id is a UUIDv5 of `orderId:attempt`, so the
 * caller can inquire about an attempt whose charge call it gave up on without knowing its answer.
 */
import { z } from 'zod';
import { uuidV5 } from '../ids.ts';

export const paymentIdFor = (orderId: string, attempt: number): string =>
  uuidV5(`payment:${orderId}:${attempt}`);

export const PaymentStatus = z.enum(['PENDING', 'APPROVED', 'DECLINED', 'FAILED', 'VOIDED']);
export type PaymentStatus = z.infer<typeof PaymentStatus>;

export const ChargeRequest = z.object({
  orderId: z.uuid(),
  attempt: z.number().int().min(1),
  amount: z.number().int().min(0),
  currency: z.string().length(3),
  /** The full card number travels only in this call; the payment ledger keeps the last four digits. */
  cardNumber: z.string().regex(/^\d{13,19}$/),
});
export type ChargeRequest = z.infer<typeof ChargeRequest>;

/** What the processor says about one charge (answer of both charge and inquiry). */
export const ChargeResult = z.object({
  paymentId: z.uuid(),
  status: PaymentStatus,
  failureCode: z.string().optional(),
  /** For FAILED: whether trying again may succeed (insufficient funds, processing error). */
  retryable: z.boolean(),
});
export type ChargeResult = z.infer<typeof ChargeResult>;

export const InquiryRequest = z.object({ paymentId: z.uuid() });
export type InquiryRequest = z.infer<typeof InquiryRequest>;

/** `found: false` means the processor never recorded the charge: it is safe to charge again. */
export const InquiryResult = z.discriminatedUnion('found', [
  z.object({ found: z.literal(false) }),
  z.object({ found: z.literal(true), result: ChargeResult }),
]);
export type InquiryResult = z.infer<typeof InquiryResult>;

/** Voids every charge of an order that is pending or approved (the order was cancelled). */
export const VoidRequest = z.object({ orderId: z.uuid() });
export type VoidRequest = z.infer<typeof VoidRequest>;
export const VoidResult = z.object({ voided: z.array(z.uuid()) });
export type VoidResult = z.infer<typeof VoidResult>;
