/**
 * The saga as the console draws it: the four services, the hops between them (a Kafka topic and
 * the trigger that consumes it, or the one Lambda Invoke), and plain decisions over an order's
 * journey (where it stands, where it stopped and why). No I/O here; test/console/flow.test.ts
 * checks the hops against the functions' yml.
 */
import { TOPICS, type TopicName } from '#layers/topics';
import { ORDER_STATUSES, isTerminal, type OrderStatus } from '../order/decisions.ts';

export const SERVICES = ['product', 'inventory', 'order', 'payment'] as const;
export type Service = (typeof SERVICES)[number];

export { ORDER_STATUSES, type OrderStatus };

export interface KafkaHop {
  kind: 'kafka';
  /** The topic; `<topic>:<service>` for a topic that more than one service consumes. */
  id: string;
  topic: TopicName;
  from: Service;
  to: Service;
  /** The function key in functions/<service>/*.yml whose msk event consumes the topic. */
  function: string;
  /** The name the consumer records applied events under (platform.processed_records). */
  consumer: string;
}

export interface InvokeHop {
  kind: 'invoke';
  id: 'payment.charge';
  from: Service;
  to: Service;
  function: string;
}

export type Hop = KafkaHop | InvokeHop;

const kafkaHop = (
  topic: TopicName,
  from: Service,
  to: Service,
  fn: string,
  id: string = topic,
): KafkaHop => ({
  kind: 'kafka',
  id,
  topic,
  from,
  to,
  function: fn,
  consumer: `${to}.${fn}`,
});

/** In saga order. Inventory takes product.created / deleted, the order service's price list all three. */
export const HOPS: readonly Hop[] = [
  kafkaHop(TOPICS.productCreated, 'product', 'inventory', 'onProductCreated'),
  kafkaHop(TOPICS.productDeleted, 'product', 'inventory', 'onProductDeleted'),
  kafkaHop(TOPICS.productCreated, 'product', 'order', 'onProductChanged', 'product.created:order'),
  kafkaHop(TOPICS.productUpdated, 'product', 'order', 'onProductChanged', 'product.updated:order'),
  kafkaHop(TOPICS.productDeleted, 'product', 'order', 'onProductChanged', 'product.deleted:order'),
  kafkaHop(TOPICS.orderPlaced, 'order', 'inventory', 'reserveStock'),
  kafkaHop(TOPICS.stockReserved, 'inventory', 'order', 'processPayment'),
  kafkaHop(TOPICS.stockRejected, 'inventory', 'order', 'onStockRejected'),
  kafkaHop(TOPICS.paymentRequested, 'order', 'order', 'processPayment'),
  { kind: 'invoke', id: 'payment.charge', from: 'order', to: 'payment', function: 'chargePayment' },
  kafkaHop(TOPICS.orderCompleted, 'order', 'inventory', 'settleReservation'),
  kafkaHop(TOPICS.orderFailed, 'order', 'inventory', 'settleReservation'),
  kafkaHop(TOPICS.orderCancelled, 'order', 'inventory', 'settleReservation'),
];

export const KAFKA_HOPS = HOPS.filter((hop): hop is KafkaHop => hop.kind === 'kafka');

/** One event of an order, from the outbox, and when its consumer applied it. */
export interface JourneyEvent {
  topic: TopicName;
  type: string;
  createdAt: string;
  availableAt: string;
  publishedAt: string | null;
  appliedAt: string | null;
  /** payment.requested only. */
  action?: string;
  attempt?: number;
}

export interface JourneyPayment {
  attempt: number;
  status: string;
  failureCode: string | null;
  createdAt: string;
  settledAt: string | null;
}

export interface Diagnosis {
  state: 'finished' | 'waiting' | 'stuck';
  /** The hop the order is at (or stopped at), to highlight on the diagram. */
  hop: Hop['id'] | null;
  summary: string;
  /** The topic whose published event no consumer has applied yet: its dead letters may say why. */
  awaiting?: TopicName;
}

/** After this long without progress an order counts as stuck rather than in flight. */
export const STUCK_AFTER_MS = 30_000;

const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 100) / 10)} s`;

/**
 * Where an order stands: the last event of its journey that has not been applied says where it
 * waits (or stopped); a due event nobody applied for STUCK_AFTER_MS is stuck, and a dead letter
 * carrying the order's id says why.
 */
export function diagnose(
  order: { status: OrderStatus; failureReason: string | null; updatedAt: string },
  events: readonly JourneyEvent[],
  payments: readonly JourneyPayment[],
  now: Date,
  deadLetter?: { topic: TopicName; error?: string },
): Diagnosis {
  const ago = (at: string) => now.getTime() - Date.parse(at);
  if (isTerminal(order.status)) {
    const unsettled = events.find((e) => e.appliedAt === null);
    const reason = order.failureReason ? `: ${order.failureReason}` : '';
    if (!unsettled) return { state: 'finished', hop: null, summary: `${order.status}${reason}` };
    return waitingOn(unsettled, `${order.status}${reason}; `);
  }
  if (deadLetter) {
    const hop = hopOfTopic(deadLetter.topic);
    const summary = `dead-lettered on ${deadLetter.topic}.dlq: ${deadLetter.error ?? 'no error recorded'}. Replay it once the cause is fixed.`;
    return { state: 'stuck', hop, summary };
  }
  const pending = events.find((e) => e.appliedAt === null);
  if (pending) return waitingOn(pending, '');
  const charging = payments.find((p) => p.status === 'PENDING');
  if (charging) {
    const state = ago(charging.createdAt) > STUCK_AFTER_MS ? 'stuck' : 'waiting';
    return {
      state,
      hop: 'payment.charge',
      summary: `payment attempt ${charging.attempt} pending for ${seconds(ago(charging.createdAt))}`,
    };
  }
  const state = ago(order.updatedAt) > STUCK_AFTER_MS ? 'stuck' : 'waiting';
  return {
    state,
    hop: null,
    summary: `${order.status} for ${seconds(ago(order.updatedAt))} with no event waiting`,
  };

  function waitingOn(event: JourneyEvent, prefix: string): Diagnosis {
    const hop = hopOfTopic(event.topic);
    const what = event.action ? `${event.topic} (${event.action}, attempt ${event.attempt})` : event.topic;
    const due = Date.parse(event.availableAt) - now.getTime();
    if (due > 0)
      return {
        state: 'waiting',
        hop,
        summary: `${prefix}${what} scheduled: due in ${seconds(due)} (retry backoff)`,
      };
    const late = ago(event.availableAt) > STUCK_AFTER_MS;
    const consumer = KAFKA_HOPS.find((h) => h.topic === event.topic)?.function ?? 'its consumer';
    if (!event.publishedAt) {
      return {
        state: late ? 'stuck' : 'waiting',
        hop,
        summary: `${prefix}${what} due for ${seconds(-due)}, not yet published by the outbox`,
      };
    }
    const summary = `${prefix}${what} published ${seconds(ago(event.publishedAt))} ago, not yet applied by ${consumer}`;
    return { state: late ? 'stuck' : 'waiting', hop, summary, awaiting: event.topic };
  }
}

/** `topic` without the stack's topic prefix. */
function hopOfTopic(topic: string): Hop['id'] | null {
  return KAFKA_HOPS.find((hop) => hop.topic === topic)?.id ?? null;
}
