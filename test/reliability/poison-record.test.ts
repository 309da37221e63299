/**
 * Fault: a record its consumer can never apply (a poison record: not JSON, the wrong schema) and
 * a record the database refuses (an exception raised by a trigger). Neither can succeed on retry,
 * so the consumer writes it to `<topic>.dlq` itself on its first failure, with the reason
 * (layers/kafka/consumer.ts), and goes on: the partition is not stuck, the orders behind it
 * complete. `npm run dlq:replay -- <topic>` sends dead letters back once the cause is fixed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { TOPIC_PARTITIONS } from '#layers/topics';
import { eventually, requireEnv } from '../support/api.ts';
import { closeTestDb, injectTrigger, seedProduct, stockSettlesAt, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { place, settled } from '../saga/saga-helpers.ts';
import { kafka, prefixed } from './support.ts';

afterEach(expectInvariants);
afterAll(closeTestDb);

interface DeadLetter {
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/** Reads `<topic>.dlq` from the beginning until `enough` holds for what was read. */
async function readDeadLetters(
  topic: string,
  enough: (letters: DeadLetter[]) => boolean,
  timeoutMs = 45_000,
): Promise<DeadLetter[]> {
  const consumer = kafka().consumer({ groupId: `reliability-dlq-reader-${randomUUID()}` });
  const letters: DeadLetter[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: `${prefixed(topic)}.dlq`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
        );
        letters.push({
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? '',
          headers,
        });
      },
    });
    await eventually(async () => enough(letters), {
      timeoutMs,
      intervalMs: 200,
      what: `dead letters on ${prefixed(topic)}.dlq`,
    });
    return letters;
  } finally {
    await consumer.disconnect();
  }
}

const partitionOf = (letter: DeadLetter) => Number(letter.headers['lambda-esm-source-partition']);

/** The offline MSK plugin's log lines of reserveStock invocations whose records included this dead letter's. */
function invocationsOf(letter: DeadLetter): string[] {
  const log = readFileSync(requireEnv('OFFLINE_LOG'), 'utf8');
  const partition = `${letter.headers['lambda-esm-source-topic']}-${partitionOf(letter)}`;
  const offset = Number(letter.headers['lambda-esm-source-offset']);
  return log.split('\n').filter((line) => {
    if (!line.includes('reserveStock')) return false;
    // `<topic>-<p>@<first>[..<last>]`, comma-separated per partition.
    return [...line.matchAll(/(\S+?)@(\d+)(?:\.\.(\d+))?(?=[, ])/g)].some(
      ([, key, first, last]) =>
        key!.endsWith(partition) && Number(first) <= offset && offset <= Number(last ?? first),
    );
  });
}

it('poison records go to order.placed.dlq on their first failure with their error, and the orders behind them complete', async () => {
  const marker = randomUUID();
  const producer = kafka().producer();
  await producer.connect();
  try {
    // One poison record per partition: valid JSON of the wrong schema, and a value that is not JSON.
    await producer.send({
      topic: prefixed('order.placed'),
      messages: Array.from({ length: TOPIC_PARTITIONS }, (_, partition) => ({
        partition,
        key: `poison-${marker}-${partition}`,
        value:
          partition % 2
            ? JSON.stringify({ eventId: marker, type: 'OrderPlaced', data: { orderId: 42, poison: marker } })
            : `not json ${marker}`,
      })),
    });
  } finally {
    await producer.disconnect();
  }
  const product = await seedProduct({ onHand: 10 });
  // Every partition has a poison record ahead of these orders.
  const orders = await Promise.all(
    Array.from({ length: 6 }, () => place([{ productId: product, quantity: 1 }])),
  );
  const done = await Promise.all(orders.map((o) => settled(o.id, 60_000)));
  expect(done.map((o) => o.status)).toEqual(orders.map(() => 'COMPLETED'));
  await stockSettlesAt(product, { onHand: 4, reserved: 0 });

  const letters = await readDeadLetters(
    'order.placed',
    (l) => l.filter((x) => x.key?.startsWith(`poison-${marker}`)).length === TOPIC_PARTITIONS,
  );
  const ours = letters.filter((l) => l.key?.startsWith(`poison-${marker}`));
  expect(ours).toHaveLength(TOPIC_PARTITIONS);
  for (const letter of ours) {
    expect(letter.value).toContain(marker);
    expect(letter.headers).toMatchObject({
      'lambda-esm-source-topic': prefixed('order.placed'),
      'lambda-esm-function': 'shopstream-local-reserveStock',
      'lambda-esm-consumer': 'inventory.reserveStock',
      'lambda-esm-condition': 'NonRetryableError',
      'lambda-esm-error-class': partitionOf(letter) % 2 ? 'ZodError' : 'SyntaxError',
      'lambda-esm-attempts': '1',
    });
    // Dead-lettered on the first failure: the mapping never retried them.
    const invocations = invocationsOf(letter);
    expect(invocations.length).toBeGreaterThan(0);
    expect(invocations.filter((line) => / retry \d+ /.test(line))).toEqual([]);
  }
  // Nothing else went to the dead-letter topic: the valid orders were not swept along.
  expect(letters.filter((l) => orders.some((o) => l.value.includes(o.id)))).toEqual([]);
}, 120_000);

it('a record the database refuses is dead-lettered at once, and once the cause is fixed `npm run dlq:replay` completes it once', async () => {
  const sql = testDb();
  const product = await seedProduct({ onHand: 5 });
  const other = await seedProduct({ onHand: 5 });
  const fn = `reliability_fail_${product.replaceAll('-', '')}`;
  // The fault, from data: reserving this product fails (as a broken dependency would) until dropped.
  const removeFault = await injectTrigger(fn, {
    when: 'before insert',
    table: 'inventory.reservations',
    body: `if new.product_id = '${product}' then raise exception 'injected fault: stock service unavailable'; end if;`,
  });
  let failing: { id: string };
  try {
    failing = await place([{ productId: product, quantity: 2 }]);
    const fine = await place([{ productId: other, quantity: 1 }]);
    expect((await settled(fine.id, 60_000)).status).toBe('COMPLETED');
    const letters = await readDeadLetters('order.placed', (l) => l.some((x) => x.key === failing.id));
    expect(letters.find((l) => l.key === failing.id)!.headers).toMatchObject({
      'lambda-esm-condition': 'NonRetryableError',
      'lambda-esm-error': expect.stringContaining('injected fault'),
    });
    expect((await sql`select status from orders.orders where id = ${failing.id}`)[0]!.status).toBe('PENDING');
  } finally {
    await removeFault();
  }

  // The documented command, as an operator runs it (same environment: broker and topic prefix).
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.resolve('node_modules/tsx/dist/cli.mjs'), 'infra/cli/replay-dlq.ts', 'order.placed'],
      { env: process.env },
    );
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    child.once('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`dlq:replay exited ${code}: ${text}`)),
    );
  });
  expect(output).toMatch(/order\.placed\.dlq → .*order\.placed: \d+ record/);
  expect((await settled(failing.id, 60_000)).status).toBe('COMPLETED');
  await stockSettlesAt(product, { onHand: 3, reserved: 0 });
  // Replayed once: one reservation, one approved payment; the poison records of the first test
  // were replayed too and went back to the DLQ, harmlessly.
  const reservations = await sql`select 1 from inventory.reservations where order_id = ${failing.id}`;
  expect(reservations).toHaveLength(1);
}, 150_000);
