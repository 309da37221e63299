/**
 * Data schemas of the order saga's events (the `data` of the envelope in events.ts). Every event
 * is keyed by the order id and carries it, so one order's events stay in order per topic and the
 * consumers can log it as the correlation id.
 */
import { z } from 'zod';

const OrderId = z.uuid();

export const OrderLine = z.object({ productId: z.uuid(), quantity: z.number().int().positive() });
export type OrderLine = z.infer<typeof OrderLine>;

/** order.placed: the order service accepted an order; inventory tries to reserve its items. */
export const OrderPlacedData = z.object({ orderId: OrderId, items: z.array(OrderLine).min(1) });
export type OrderPlacedData = z.infer<typeof OrderPlacedData>;

/** stock.reserved: every item is held for the order. */
export const StockReservedData = z.object({ orderId: OrderId, items: z.array(OrderLine) });
export type StockReservedData = z.infer<typeof StockReservedData>;

/** stock.rejected: nothing is held; `reason` says which product failed and why. */
export const StockRejectedData = z.object({ orderId: OrderId, reason: z.string() });
export type StockRejectedData = z.infer<typeof StockRejectedData>;

/**
 * payment.requested: the order service asks itself (processPayment) to run one step of the
 * payment: `charge` starts attempt `attempt`; `inquire` asks the processor how attempt `attempt`
 * ended after its charge call timed out (never charging again while it may still settle); `void`
 * (after a cancel) voids whatever charge of the order is pending or approved.
 */
export const PaymentRequestedData = z.object({
  orderId: OrderId,
  attempt: z.number().int().min(1),
  action: z.enum(['charge', 'inquire', 'void']),
  /** How many inquiries for this attempt came before this one. */
  inquiries: z.number().int().min(0).default(0),
});
export type PaymentRequestedData = z.input<typeof PaymentRequestedData>;

/** order.completed: paid; inventory commits the reservation. */
export const OrderCompletedData = z.object({ orderId: OrderId, paymentId: z.uuid() });
export type OrderCompletedData = z.infer<typeof OrderCompletedData>;

/** order.failed: payment failed for good; inventory releases the reservation. */
export const OrderFailedData = z.object({ orderId: OrderId, reason: z.string() });
export type OrderFailedData = z.infer<typeof OrderFailedData>;

/** order.cancelled: cancelled by the customer; inventory releases whatever it holds. */
export const OrderCancelledData = z.object({ orderId: OrderId });
export type OrderCancelledData = z.infer<typeof OrderCancelledData>;

/** The reservation settlement consumer takes any of the three closing events. */
export const OrderClosedData = z.object({ orderId: OrderId });
