/**
 * The event catalogue: every event shopstream's services exchange, declared once — its topic,
 * the zod schema of its data, how its partition key is derived and its type name. Producers
 * publish through it (`publish(tx, OrderPlaced, data)` in outbox.ts) and consumers take their
 * schema from it (`kafkaHandler({ events: OrderPlaced, … })` in kafka/consumer.ts), so a change of
 * an event's shape is one edit that the compiler carries to both sides.
 *
 * One naming rule: an event's type is its topic in PascalCase (`order.placed` → `OrderPlaced`),
 * derived here, never written by hand. Every event is keyed by the id of the aggregate it concerns
 * (order id, product id), so one aggregate's events stay in order on one partition.
 */
import { z } from 'zod';
import { TOPICS, type TopicName } from './topics.ts';

/** The envelope every event travels in (Kafka record value, JSON). */
export const EventEnvelope = z.object({
  /** What consumers de-duplicate on: a re-published outbox row keeps its id even at a new offset. */
  eventId: z.uuid(),
  type: z.string().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
  data: z.unknown(),
});
export type EventEnvelope<T = unknown> = Omit<z.infer<typeof EventEnvelope>, 'data'> & { data: T };

/** Kafka header that carries the correlation id (the order id in the saga) across hops. */
export const CORRELATION_HEADER = 'correlation-id';

type PascalCase<S extends string> = S extends `${infer Head}.${infer Rest}`
  ? `${Capitalize<Head>}${PascalCase<Rest>}`
  : Capitalize<S>;

export interface EventDefinition<Type extends string = string, Data extends z.ZodType = z.ZodType> {
  readonly type: Type;
  readonly topic: TopicName;
  readonly data: Data;
  /** The partition key: the id of the aggregate the event concerns. */
  readonly key: (data: z.input<Data>) => string;
}

/** What a producer passes (defaults not yet applied) and what a consumer receives (parsed). */
export type EventInput<E extends EventDefinition> = z.input<E['data']>;
export type EventData<E extends EventDefinition> = z.output<E['data']>;
/** One of the given events, told apart by `type` (a discriminated union). */
export type EventOf<E extends EventDefinition> = E extends EventDefinition
  ? { type: E['type']; data: EventData<E> }
  : never;

function defineEvent<const Topic extends TopicName, Data extends z.ZodType>(
  topic: Topic,
  data: Data,
  key: (data: z.input<Data>) => string,
): EventDefinition<PascalCase<Topic>, Data> {
  const type = topic
    .split('.')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('') as PascalCase<Topic>;
  return { type, topic, data, key };
}

const byOrder = (data: { orderId: string }) => data.orderId;
const byProduct = (data: { productId: string }) => data.productId;

// Product service. Inventory creates a product's stock row from product.created (with its initial
// stock) and retires it on product.deleted; the order service keeps its price list from all three.
// The three travel on different topics, so nothing orders them: each carries the product's
// version (1 at creation, one more per change), and a consumer applies only a newer one.

const Money = {
  /** Integer minor units. */
  price: z.number().int().nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/),
};
const Version = { version: z.number().int().positive() };

export const ProductCreated = defineEvent(
  TOPICS.productCreated,
  z.object({
    productId: z.uuid(),
    sku: z.string(),
    name: z.string(),
    ...Money,
    ...Version,
    initialStock: z.number().int().nonnegative(),
  }),
  byProduct,
);

/** The product as it is after the change (a snapshot, so consumers need no earlier event). */
export const ProductUpdated = defineEvent(
  TOPICS.productUpdated,
  z.object({
    productId: z.uuid(),
    sku: z.string(),
    name: z.string(),
    ...Money,
    ...Version,
    categoryIds: z.array(z.uuid()),
  }),
  byProduct,
);

/** The product's last state: a consumer that missed everything before still learns its price. */
export const ProductDeleted = defineEvent(
  TOPICS.productDeleted,
  z.object({ productId: z.uuid(), sku: z.string(), ...Money, ...Version }),
  byProduct,
);

// The order saga. Every event is keyed by the order id and carries it, so the consumers can log it
// as the correlation id.

export const OrderLine = z.object({ productId: z.uuid(), quantity: z.number().int().positive() });
export type OrderLine = z.infer<typeof OrderLine>;

/** The order service accepted an order; inventory tries to reserve its items. */
export const OrderPlaced = defineEvent(
  TOPICS.orderPlaced,
  z.object({ orderId: z.uuid(), items: z.array(OrderLine).min(1) }),
  byOrder,
);

/** Every item is held for the order. */
export const StockReserved = defineEvent(
  TOPICS.stockReserved,
  z.object({ orderId: z.uuid(), items: z.array(OrderLine) }),
  byOrder,
);

/** Nothing is held; `reason` says which product failed and why. */
export const StockRejected = defineEvent(
  TOPICS.stockRejected,
  z.object({ orderId: z.uuid(), reason: z.string() }),
  byOrder,
);

/**
 * The order service asks itself (processPayment) to run one step of the payment: `charge` starts
 * attempt `attempt`; `inquire` asks the processor how attempt `attempt` ended after its charge call
 * timed out (never charging again while it may still settle); `void` (after a cancel) voids
 * whatever charge of the order is pending or approved.
 */
export const PaymentRequested = defineEvent(
  TOPICS.paymentRequested,
  z.object({
    orderId: z.uuid(),
    attempt: z.number().int().min(1),
    action: z.enum(['charge', 'inquire', 'void']),
    /** How many inquiries for this attempt came before this one. */
    inquiries: z.number().int().min(0).default(0),
  }),
  byOrder,
);

/** Paid; inventory commits the reservation. */
export const OrderCompleted = defineEvent(
  TOPICS.orderCompleted,
  z.object({ orderId: z.uuid(), paymentId: z.uuid() }),
  byOrder,
);

/** Payment failed for good; inventory releases the reservation. */
export const OrderFailed = defineEvent(
  TOPICS.orderFailed,
  z.object({ orderId: z.uuid(), reason: z.string() }),
  byOrder,
);

/** Cancelled by the customer; inventory releases whatever it holds. */
export const OrderCancelled = defineEvent(TOPICS.orderCancelled, z.object({ orderId: z.uuid() }), byOrder);

/** Every event of the catalogue (a test checks it covers every topic, once). */
export const EVENTS = [
  ProductCreated,
  ProductUpdated,
  ProductDeleted,
  OrderPlaced,
  StockReserved,
  StockRejected,
  PaymentRequested,
  OrderCompleted,
  OrderFailed,
  OrderCancelled,
] as const;
