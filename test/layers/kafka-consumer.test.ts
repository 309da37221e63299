/**
 * The Kafka consumer wrapper against the real database: decoding of the AWS record shape,
 * de-duplication of redelivered events, partial batch responses that stop a partition at its
 * first failure that may pass, and dead letters for records that cannot succeed.
 */
import { randomUUID } from 'node:crypto';
import type { Context, MSKEvent, MSKRecord } from 'aws-lambda';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import { db } from '#layers/db';
import { ConflictError } from '#layers/errors';
import type { EventDefinition } from '#layers/events';
import { decodeRecord, kafkaHandler } from '#layers/kafka/consumer';
import { disconnectProducer } from '#layers/kafka/producer';
import { eventually } from '../support/api.ts';

const context = {} as Context;

/** Events of the tests' own: the catalogue's shape, with data the tests choose. */
const testEvent = <const Type extends string, Data extends z.ZodType>(type: Type, data: Data) =>
  ({ type, topic: 'order.placed', data, key: () => 'k' }) satisfies EventDefinition<Type, Data>;
const TestHappened = testEvent('TestHappened', z.object({ n: z.number() }));
const TestUndone = testEvent('TestUndone', z.object({ reason: z.string() }));

function record(
  topic: string,
  partition: number,
  offset: number,
  data: unknown,
  eventId = randomUUID(),
  type = 'TestHappened',
): MSKRecord {
  const value = { eventId, type, occurredAt: new Date().toISOString(), data };
  return {
    topic,
    partition,
    offset,
    timestamp: Date.now(),
    timestampType: 'CREATE_TIME',
    key: Buffer.from('k').toString('base64'),
    value: Buffer.from(JSON.stringify(value)).toString('base64'),
    headers: [{ 'correlation-id': [...Buffer.from('order-1')] }],
  } as MSKRecord;
}

const batch = (...records: MSKRecord[]): MSKEvent => {
  const grouped: MSKEvent['records'] = {};
  for (const r of records) (grouped[`${r.topic}-${r.partition}`] ??= []).push(r);
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn',
    bootstrapServers: 'b',
    records: grouped,
  } as MSKEvent;
};

afterAll(async () => {
  await disconnectProducer();
  await db().end();
});

describe('decodeRecord', () => {
  it('decodes the base64 value and signed-byte header values', () => {
    const r = record('t', 0, 0, { n: 1 });
    r.headers = [{ name: [-61, -85] }] as unknown as MSKRecord['headers']; // "ë" as Java signed bytes
    expect(decodeRecord(r).headers).toEqual({ name: 'ë' });
    expect(decodeRecord(r).value).toMatchObject({ data: { n: 1 } });
  });
});

describe('kafkaHandler', () => {
  /** A handler under a consumer name of its own, so each test sees only its own processed records. */
  function testConsumer() {
    const applied: number[] = [];
    const consumer = `test-consumer-${randomUUID()}`;
    const handler = kafkaHandler({ consumer, events: TestHappened }, async (tx, event) => {
      if (event.data.n === -1) throw new Error('the database is away'); // unclassified: may pass
      if (event.data.n === -2) throw new ConflictError('a business rule refuses it');
      await tx`select 1`;
      applied.push(event.data.n);
    });
    /** How many events this consumer has recorded as processed. */
    const processed = async () => {
      const [row] = await db()<
        { count: number }[]
      >`select count(*)::int as count from platform.processed_records where consumer = ${consumer}`;
      return row!.count;
    };
    return { applied, handler, processed };
  }

  it('applies a redelivered event once', async () => {
    const { applied, handler, processed } = testConsumer();
    const eventId = randomUUID();
    const first = await handler(batch(record('t', 0, 1, { n: 1 }, eventId)), context);
    const again = await handler(batch(record('t', 0, 7, { n: 1 }, eventId)), context);
    expect(first).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect(applied).toEqual([1]);
    expect(await processed()).toBe(1);
  });

  it('stops a partition at its first failure that may pass and reports that offset, other partitions go on', async () => {
    const { applied, handler, processed } = testConsumer();
    const result = await handler(
      batch(
        record('t', 0, 10, { n: 10 }),
        record('t', 0, 11, { n: -1 }),
        record('t', 0, 12, { n: 12 }),
        record('t', 1, 5, { n: 5 }),
      ),
      context,
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 11 } }] });
    expect(applied).toEqual([10, 5]);
    expect(await processed()).toBe(2); // the failed record's transaction recorded nothing
  });

  it('hands a consumer of several events each record as its own type, told apart by `type`', async () => {
    const seen: string[] = [];
    const handler = kafkaHandler(
      { consumer: `test-consumer-${randomUUID()}`, events: [TestHappened, TestUndone] },
      async (_tx, event) => {
        // The discriminated union: each branch sees only its own event's data.
        if (event.type === 'TestHappened') seen.push(`happened ${event.data.n}`);
        else seen.push(`undone: ${event.data.reason}`);
      },
    );
    const result = await handler(
      batch(
        record('t', 0, 1, { n: 3 }),
        record('t', 0, 2, { reason: 'cancelled' }, randomUUID(), 'TestUndone'),
      ),
      context,
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(['happened 3', 'undone: cancelled']);
  });

  it('writes a record that cannot succeed (wrong schema, wrong type, not JSON, a business rule) to <topic>.dlq on its first failure; the partition goes on', async () => {
    const { applied, handler, processed } = testConsumer();
    const topic = `${process.env.KAFKA_TOPIC_PREFIX ?? ''}order.placed`;
    const marker = randomUUID();
    const notJson = {
      ...record(topic, 2, 4, {}),
      value: Buffer.from(`not json ${marker}`).toString('base64'),
    };
    const result = await handler(
      batch(
        record(topic, 2, 3, { n: 'nope', marker }),
        notJson,
        record(topic, 2, 5, { n: -2, marker }),
        record(topic, 2, 6, { n: 6 }),
        record(topic, 2, 7, { n: 7, marker }, randomUUID(), 'TestUndone'),
      ),
      context,
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(applied).toEqual([6]);
    const letters = await readDeadLetters(`${topic}.dlq`, marker, 4);
    expect(
      letters.map((l) => [l.headers['lambda-esm-source-offset'], l.headers['lambda-esm-error-class']]),
    ).toEqual([
      ['3', 'ZodError'],
      ['4', 'SyntaxError'],
      ['5', 'ConflictError'],
      ['7', 'ZodError'],
    ]);
    expect(letters[0]).toMatchObject({
      key: 'k',
      headers: {
        'correlation-id': 'order-1',
        'lambda-esm-source-topic': topic,
        'lambda-esm-source-partition': '2',
        'lambda-esm-consumer': expect.stringMatching(/^test-consumer-/),
        'lambda-esm-condition': 'NonRetryableError',
        'lambda-esm-attempts': '1',
        'lambda-esm-error': expect.stringContaining('ZodError'),
      },
    });
    expect(await processed()).toBe(1); // only the good record: a dead-lettered one is recorded nowhere
  });
});

/** The dead letters on `dlq` whose value contains `marker`, once there are `count` of them. */
async function readDeadLetters(dlq: string, marker: string, count: number) {
  const kafka = new Kafka({
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    logLevel: logLevel.NOTHING,
  });
  const reader = kafka.consumer({ groupId: `kafka-consumer-test-${randomUUID()}` });
  const letters: { key: string | undefined; headers: Record<string, string> }[] = [];
  await reader.connect();
  try {
    await reader.subscribe({ topic: dlq, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        if (!message.value?.toString().includes(marker)) return;
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
        );
        letters.push({ key: message.key?.toString(), headers });
      },
    });
    await eventually(async () => letters.length >= count, {
      timeoutMs: 20_000,
      what: `${count} dead letters on ${dlq}`,
    });
    return letters;
  } finally {
    await reader.disconnect();
  }
}
