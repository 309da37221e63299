/**
 * Helpers of the reliability tests (test/reliability, RELIABILITY.md): a Kafka client on the run's
 * broker and topic prefix, an order stream, and "every order terminal" checked in the database.
 * `RELIABILITY_SCALE` (set by `npm run chaos`) multiplies the sizes of the streams and fuzz runs.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { api, eventually, requireEnv } from '../support/api.ts';
import { testDb } from '../support/fixtures.ts';
import { TERMINAL } from '../saga/saga-helpers.ts';
import { TOPICS, deadLetterTopic } from '#layers/topics';

export const SCALE = Number(process.env.RELIABILITY_SCALE ?? 1);
export const scaled = (n: number) => Math.max(1, Math.round(n * SCALE));

/** SQL injection attempts fed to every text field (security and fuzz tests). */
export const INJECTIONS = [
  "'; drop table product.products; --",
  "Robert'); DROP TABLE orders.orders;--",
  "' or '1'='1",
  "1' or 1=1 --",
  '" or ""="',
  "'; select pg_sleep(5); --",
  '$1 $2 ${1}',
  "\\'; truncate inventory.stock cascade; --",
  "x' union select card_number from orders.orders --",
  '%27%3B%20drop%20table%20x%3B',
  "é'; delete from payment.payments; --\u0000",
];

export const prefixed = (topic: string) => `${process.env.KAFKA_TOPIC_PREFIX ?? ''}${topic}`;

export function kafka(): Kafka {
  return new Kafka({
    clientId: 'reliability-test',
    brokers: requireEnv('KAFKA_BROKERS').split(','),
    logLevel: logLevel.NOTHING,
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Luhn-valid 16-digit card number that no other test uses (the simulator approves it: chaos rates are 0). */
export function uniqueCard(): string {
  const digits = `4${Array.from({ length: 14 }, () => Math.floor(Math.random() * 10)).join('')}`;
  for (let check = 0; check < 10; check++) {
    const candidate = `${digits}${check}`;
    let sum = 0;
    for (let i = 0; i < candidate.length; i++) {
      let d = Number(candidate[candidate.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error('unreachable');
}

/**
 * Places `count` orders with at most `limit` requests in flight. A request the system could not
 * answer (5xx or a network error while a dependency is down) is retried with the same
 * Idempotency-Key, as a client should: the order must then exist exactly once.
 */
export async function placeOrders(
  count: number,
  make: (i: number) => {
    items: { productId: string; quantity: number }[];
    cardNumber?: string;
    customerId: string;
  },
  { limit = 8, onAnswer }: { limit?: number; onAnswer?: (status: number) => void } = {},
): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const i = next++;
        const { items, cardNumber = '4242424242424242', customerId } = make(i);
        const key = randomUUID();
        for (let attempt = 0; ; attempt++) {
          const response = await api('POST', '/orders', {
            body: { customerId, items, payment: { cardNumber } },
            headers: { 'idempotency-key': key },
          }).catch(() => ({ status: 0, body: undefined, text: 'network error' }));
          onAnswer?.(response.status);
          if (response.status === 202 || response.status === 200) {
            ids[i] = response.body.id;
            break;
          }
          if ((response.status !== 0 && response.status < 500) || attempt >= 30)
            throw new Error(`POST /orders answered ${response.status}: ${response.text}`);
          await sleep(300);
        }
      }
    }),
  );
  return ids;
}

/** Waits until every order is terminal (one query per poll); returns status → count. */
export async function allTerminal(ids: string[], timeoutMs = 120_000): Promise<Record<string, number>> {
  const sql = testDb();
  let last: unknown;
  try {
    return await eventually(
      async () => {
        const rows = await sql<
          { status: string; n: number }[]
        >`select status, count(*)::int as n from orders.orders where id in ${sql(ids)} group by status`;
        last = rows;
        const total = rows.reduce((n, r) => n + r.n, 0);
        if (total !== ids.length || rows.some((r) => !TERMINAL.includes(r.status))) return undefined;
        return Object.fromEntries(rows.map((r) => [r.status, r.n]));
      },
      { timeoutMs, intervalMs: 500, what: `${ids.length} orders terminal` },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; statuses: ${JSON.stringify(last)}`);
  }
}

/** No order of these was charged twice, and each COMPLETED one has exactly one approved payment. */
export async function expectChargedOnce(ids: string[]): Promise<void> {
  const sql = testDb();
  const rows = await sql<{ id: string; status: string; approved: number }[]>`
    select o.id, o.status, count(p.*) filter (where p.status = 'APPROVED')::int as approved
    from orders.orders o left join payment.payments p on p.order_id = o.id
    where o.id in ${sql(ids)} group by o.id, o.status`;
  const wrong = rows.filter((r) => r.approved > 1 || (r.status === 'COMPLETED') !== (r.approved === 1));
  expect(wrong).toEqual([]);
}

/** Each order's timeline has no repeated transition (a doubled event would add one). */
export async function expectNoDoubledTransitions(ids: string[]): Promise<void> {
  const sql = testDb();
  const rows = await sql<{ orderId: string; status: string; n: number }[]>`
    select order_id, status, count(*)::int as n from orders.timeline where order_id in ${sql(ids)}
    group by order_id, status, detail having count(*) > 1`;
  expect(rows).toEqual([]);
}

export async function health(): Promise<number> {
  return (await api('GET', '/health').catch(() => ({ status: 0 }))).status;
}

/**
 * Every record on the run's dead-letter topics (`<topic>.dlq` of every topic), read up to their
 * current ends, whose value mentions one of `ids` (or all of them without `ids`).
 */
export async function deadLetters(ids?: string[]): Promise<{ topic: string; value: string }[]> {
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  try {
    for (const topic of Object.values(TOPICS)) {
      const dlq = deadLetterTopic(prefixed(topic));
      for (const p of await admin.fetchTopicOffsets(dlq))
        if (Number(p.high) > Number(p.low)) ends.set(`${dlq}:${p.partition}`, Number(p.high));
    }
  } finally {
    await admin.disconnect();
  }
  const found: { topic: string; value: string }[] = [];
  if (!ends.size) return found;
  const consumer = client.consumer({ groupId: `reliability-dlq-check-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({
      topics: [...new Set([...ends.keys()].map((k) => k.split(':')[0]!))],
      fromBeginning: true,
    });
    const pending = new Set(ends.keys());
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const value = message.value?.toString() ?? '';
        if (!ids || ids.some((id) => value.includes(id))) found.push({ topic, value });
        if (Number(message.offset) + 1 >= (ends.get(`${topic}:${partition}`) ?? 0))
          pending.delete(`${topic}:${partition}`);
      },
    });
    await eventually(async () => pending.size === 0, {
      timeoutMs: 30_000,
      what: 'dead-letter topics read to their ends',
    });
  } finally {
    await consumer.disconnect();
  }
  return found;
}
