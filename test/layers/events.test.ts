/** The event catalogue (unit, no I/O): one event per topic, one naming rule, keys from the data. */
import { randomUUID } from 'node:crypto';
import { EVENTS, OrderCancelled, PaymentRequested, ProductCreated } from '#layers/events';
import { TOPICS } from '#layers/topics';

describe('event catalogue', () => {
  it('declares exactly one event per topic', () => {
    expect(EVENTS.map((event) => event.topic).sort()).toEqual(Object.values(TOPICS).sort());
  });

  it('names every event after its topic, in PascalCase', () => {
    expect(Object.fromEntries(EVENTS.map((event) => [event.topic, event.type]))).toEqual({
      'product.created': 'ProductCreated',
      'product.updated': 'ProductUpdated',
      'product.deleted': 'ProductDeleted',
      'order.placed': 'OrderPlaced',
      'stock.reserved': 'StockReserved',
      'stock.rejected': 'StockRejected',
      'payment.requested': 'PaymentRequested',
      'order.completed': 'OrderCompleted',
      'order.failed': 'OrderFailed',
      'order.cancelled': 'OrderCancelled',
    });
  });

  it('keys product events by product id and saga events by order id', () => {
    const productId = randomUUID();
    const orderId = randomUUID();
    expect(
      ProductCreated.key({
        productId,
        sku: 'S-1',
        name: 'Lamp',
        price: 100,
        currency: 'USD',
        initialStock: 1,
        version: 1,
      }),
    ).toBe(productId);
    expect(OrderCancelled.key({ orderId })).toBe(orderId);
  });

  it('applies data defaults when a consumer parses, not when a producer writes', () => {
    const orderId = randomUUID();
    const parsed = PaymentRequested.data.parse({ orderId, attempt: 2, action: 'inquire' });
    expect(parsed).toEqual({ orderId, attempt: 2, action: 'inquire', inquiries: 0 });
    expect(PaymentRequested.data.safeParse({ orderId, attempt: 0, action: 'charge' }).success).toBe(false);
  });
});
