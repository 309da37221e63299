/** Helpers of the saga tests: place an order and wait for it to settle. */
import { randomUUID } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { api, eventually, requireEnv } from '../support/api.ts';
import { EVENTS } from '#layers/events';
import { TOPICS, topicName, type TopicName } from '#layers/topics';
import { testDb } from '../support/fixtures.ts';

export const TERMINAL = ['COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED'];

let lambda: LambdaClient | undefined;

/** Calls a function of the stack through serverless-offline's Lambda Invoke API, as the saga does. */
export async function invoke(name: string, payload: unknown, timeoutMs = 10_000): Promise<any> {
  lambda ??= new LambdaClient({
    endpoint: requireEnv('LAMBDA_ENDPOINT'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const response = await lambda.send(
    new InvokeCommand({
      FunctionName: `shopstream-local-${name}`,
      Payload: Buffer.from(JSON.stringify(payload)),
    }),
    { abortSignal: AbortSignal.timeout(timeoutMs) },
  );
  const text = Buffer.from(response.Payload ?? []).toString('utf8');
  if (response.FunctionError) throw new Error(`${name}: ${text}`);
  return JSON.parse(text);
}

export async function place(
  items: { productId: string; quantity: number }[],
  cardNumber = '4242424242424242',
  { customerId = randomUUID() }: { customerId?: string } = {},
) {
  const response = await api('POST', '/orders', { body: { customerId, items, payment: { cardNumber } } });
  if (response.status !== 202) throw new Error(`POST /orders answered ${response.status}: ${response.text}`);
  return response.body as {
    id: string;
    status: string;
    total: number;
    items: { productId: string; quantity: number; unitPrice: number }[];
  };
}

export async function settled(orderId: string, timeoutMs = 60_000) {
  return eventually(
    async () => {
      const response = await api('GET', `/orders/${orderId}`);
      return TERMINAL.includes(response.body?.status) ? response.body : undefined;
    },
    { timeoutMs, intervalMs: 150, what: `order ${orderId} terminal` },
  );
}

export async function timeline(orderId: string): Promise<{ status: string; detail: string }[]> {
  return (await api('GET', `/orders/${orderId}/timeline`)).body.items;
}

export async function payments(
  orderId: string,
): Promise<{ id: string; attempt: number; status: string; failureCode?: string }[]> {
  return (await api('GET', `/orders/${orderId}/payments`)).body.items;
}

/**
 * Waits until the charge call of an order's attempt has answered its caller (payment.payments
 * answered_at): for a slow charge that is when the call wakes at its settle time; from then on
 * nothing about that charge changes any more. The positive signal before a "stays voided" check.
 */
export async function chargeAnswered(orderId: string, attempt: number, timeoutMs: number): Promise<void> {
  await eventually(
    async () =>
      (
        await testDb()<{ answered: boolean }[]>`
          select answered_at is not null as answered from payment.payments where order_id = ${orderId} and attempt = ${attempt}`
      )[0]?.answered,
    { timeoutMs, what: `the charge call of ${orderId} attempt ${attempt} answered` },
  );
}

/** Waits until all `count` orders of a customer are terminal (one GET /orders per poll); returns them. */
export async function customerOrdersSettled(
  customerId: string,
  count: number,
  timeoutMs = 90_000,
): Promise<{ id: string; status: string }[]> {
  return eventually(
    async () => {
      const response = await api('GET', `/orders?customerId=${customerId}&limit=100`);
      const items = (response.body?.items ?? []) as { id: string; status: string }[];
      return items.length === count && items.every((order) => TERMINAL.includes(order.status))
        ? items
        : undefined;
    },
    { timeoutMs, intervalMs: 500, what: `${count} orders of ${customerId} terminal` },
  );
}

/**
 * Waits for the order's next delayed payment step of the given kind (a retry `charge` or an
 * `inquire`, still unpublished in the outbox) and pushes its due time `holdMs` further, so a test
 * can act "while a retry is pending" on a busy host without racing the backoff. Returns its data.
 */
export async function holdBackNextPaymentStep(orderId: string, action: 'charge' | 'inquire', holdMs: number) {
  return eventually(
    async () => {
      const [row] = await testDb()<{ data: { attempt: number; action: string } }[]>`
        update platform.outbox set available_at = available_at + ${`${holdMs} milliseconds`}::interval
        where key = ${orderId} and published_at is null and available_at > now()
          and payload->>'type' = 'PaymentRequested' and payload->'data'->>'action' = ${action}
        returning payload->'data' as data`;
      return row?.data;
    },
    { timeoutMs: 60_000, intervalMs: 20, what: `a pending ${action} step of ${orderId}` },
  );
}

/** Which consumer applies the events of each topic (its processed-record log names it). */
const CONSUMER_OF_TOPIC: Partial<Record<TopicName, string>> = {
  [TOPICS.productCreated]: 'inventory.onProductCreated',
  [TOPICS.productDeleted]: 'inventory.onProductDeleted',
  [TOPICS.orderPlaced]: 'inventory.reserveStock',
  [TOPICS.stockReserved]: 'order.processPayment',
  [TOPICS.stockRejected]: 'order.onStockRejected',
  [TOPICS.paymentRequested]: 'order.processPayment',
  [TOPICS.orderCompleted]: 'inventory.settleReservation',
  [TOPICS.orderFailed]: 'inventory.settleReservation',
  [TOPICS.orderCancelled]: 'inventory.settleReservation',
};

/** Which consumer applies each order event type (its type name, from the event catalogue). */
export const CONSUMER_OF: Record<string, string> = Object.fromEntries(
  EVENTS.filter((event) => !event.topic.startsWith('product.') && CONSUMER_OF_TOPIC[event.topic]).map(
    (event) => [event.type, CONSUMER_OF_TOPIC[event.topic]!],
  ),
);

/**
 * Waits until the saga has nothing left in flight for these orders: every event written for them
 * (delayed payment steps included) is published and recorded as processed by its consumer. The
 * positive signal before a "nothing changed" check.
 */
export async function orderEventsConsumed(orderIds: string[], timeoutMs = 30_000): Promise<void> {
  await eventsConsumed(orderIds, timeoutMs, `events of orders ${orderIds.join(', ')}`);
}

/** The same for every event in the database, whatever its aggregate (products too). */
export async function everyEventConsumed(timeoutMs = 60_000): Promise<void> {
  await eventsConsumed(undefined, timeoutMs, 'events in the outbox');
}

/**
 * One statement reads the outbox and the processed-record log, so an event that a consumer writes
 * as it commits cannot slip between two reads. An event of a topic nobody consumes
 * (product.updated) only has to be published.
 */
async function eventsConsumed(keys: string[] | undefined, timeoutMs: number, what: string): Promise<void> {
  const sql = testDb();
  const consumers = Object.fromEntries(
    Object.entries(CONSUMER_OF_TOPIC).map(([topic, consumer]) => [topicName(topic as TopicName), consumer]),
  );
  let unconsumed: { topic: string; eventId: string; published: boolean }[] = [];
  try {
    await eventually(
      async () => {
        unconsumed = await sql<typeof unconsumed>`
          select o.topic, o.payload->>'eventId' as event_id, o.published_at is not null as published
          from platform.outbox o
          where ${keys ? sql`o.key in ${sql(keys)}` : sql`true`}
            and (o.published_at is null
              or (${sql.json(consumers)}::jsonb ? o.topic
                and not exists (
                  select 1 from platform.processed_records p
                  where p.record_key = o.payload->>'eventId'
                    and p.consumer = ${sql.json(consumers)}::jsonb ->> o.topic)))
          limit 20`;
        return unconsumed.length === 0;
      },
      { timeoutMs, intervalMs: 200 },
    );
  } catch {
    throw new Error(`${what} not consumed within ${timeoutMs} ms: ${JSON.stringify(unconsumed)}`);
  }
}
