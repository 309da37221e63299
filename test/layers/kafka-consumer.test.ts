/**
 * The Kafka consumer wrapper against the real database: decoding of the AWS record shape,
 * de-duplication of redelivered events, and partial batch responses that stop a partition at
 * its first failure.
 */
import { randomUUID } from 'node:crypto';
import type { Context, MSKEvent, MSKRecord } from 'aws-lambda';
import { z } from 'zod';
import { db } from '#layers/db';
import { decodeRecord, kafkaHandler } from '#layers/kafka/consumer';

const context = {} as Context;

function record(
  topic: string,
  partition: number,
  offset: number,
  data: unknown,
  eventId = randomUUID(),
): MSKRecord {
  const value = { eventId, type: 'test.happened', occurredAt: new Date().toISOString(), data };
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

afterAll(() => db().end());

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
    const handler = kafkaHandler({ consumer, schema: z.object({ n: z.number() }) }, async (tx, event) => {
      if (event.data.n < 0) throw new Error('poison');
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

  it('stops a partition at its first failure and reports that offset, other partitions go on', async () => {
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

  it('reports a record whose value does not match the schema, records it nowhere, and goes on', async () => {
    const { applied, handler, processed } = testConsumer();
    const result = await handler(
      batch(record('t', 2, 3, { n: 'nope' }), record('t', 3, 4, { n: 4 })),
      context,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: { partition: 't-2', offset: 3 } }]);
    expect(applied).toEqual([4]);
    expect(await processed()).toBe(1); // the good record of the other partition, not the malformed one
  });
});
