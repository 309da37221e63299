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

function record(topic: string, partition: number, offset: number, data: unknown, eventId = randomUUID()): MSKRecord {
  const value = { eventId, type: 'test.happened', occurredAt: new Date().toISOString(), data };
  return {
    topic, partition, offset, timestamp: Date.now(), timestampType: 'CREATE_TIME', key: Buffer.from('k').toString('base64'),
    value: Buffer.from(JSON.stringify(value)).toString('base64'),
    headers: [{ 'correlation-id': [...Buffer.from('order-1')] }],
  } as MSKRecord;
}

const batch = (...records: MSKRecord[]): MSKEvent => {
  const grouped: MSKEvent['records'] = {};
  for (const r of records) (grouped[`${r.topic}-${r.partition}`] ??= []).push(r);
  return { eventSource: 'aws:kafka', eventSourceArn: 'arn', bootstrapServers: 'b', records: grouped } as MSKEvent;
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
  const applied: number[] = [];
  const consumer = `test-consumer-${randomUUID()}`;
  const handler = kafkaHandler({ consumer, schema: z.object({ n: z.number() }) }, async (tx, event) => {
    if (event.data.n < 0) throw new Error('poison');
    await tx`select 1`;
    applied.push(event.data.n);
  });

  beforeEach(() => (applied.length = 0));

  it('applies a redelivered event once', async () => {
    const eventId = randomUUID();
    const first = await handler(batch(record('t', 0, 1, { n: 1 }, eventId)), context);
    const again = await handler(batch(record('t', 0, 7, { n: 1 }, eventId)), context);
    expect(first).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect(applied).toEqual([1]);
  });

  it('stops a partition at its first failure and reports that offset, other partitions go on', async () => {
    const result = await handler(batch(record('t', 0, 10, { n: 10 }), record('t', 0, 11, { n: -1 }), record('t', 0, 12, { n: 12 }), record('t', 1, 5, { n: 5 })), context);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 11 } }] });
    expect(applied).toEqual([10, 5]);
  });

  it('reports a record whose value does not match the schema', async () => {
    const result = await handler(batch(record('t', 2, 3, { n: 'nope' })), context);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: { partition: 't-2', offset: 3 } }]);
    const [row] = await db()`select count(*)::int as count from platform.processed_records where consumer = ${consumer}`;
    expect(row!.count).toBe(3); // the two good events of the previous tests and this batch's none
  });
});
