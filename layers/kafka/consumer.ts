/**
 * Kafka-triggered handlers (MSK / self-managed Kafka event source mappings).
 *
 * Records are applied one at a time, in partition order, each in its own transaction that also
 * records the event id in platform.processed_records: a redelivered event is recognised and
 * skipped, so every consumer is idempotent. When a record fails, the partition stops there and
 * the handler reports it as a partial batch failure (`ReportBatchItemFailures`), so the mapping
 * resumes that partition at the failed offset while the other partitions' progress is kept.
 * The events the applied records enqueued are published once, after the batch.
 */
import middy from '@middy/core';
import type { Context, MSKEvent, MSKRecord } from 'aws-lambda';
import { z } from 'zod';
import type { Tx } from '../db.ts';
import { CORRELATION_HEADER, EventEnvelope } from '../events.ts';
import { inTransaction, publishPending } from '../outbox.ts';
import { logger, traceHandler } from '../observability.ts';

export interface KafkaBatchResponse {
  batchItemFailures: { itemIdentifier: { partition: string; offset: number } }[];
}

export interface ConsumedEvent<T> {
  eventId: string;
  type: string;
  occurredAt: string;
  data: T;
  correlationId?: string;
  topic: string;
  partition: number;
  offset: number;
}

export interface ConsumerOptions<S extends z.ZodType> {
  /** Stable name of this consumer; part of the idempotency key. */
  consumer: string;
  /** Schema of the event's `data`. */
  schema: S;
}

/** Decodes an MSK record's base64 value and header byte arrays. */
export function decodeRecord(record: MSKRecord): { value: unknown; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const header of record.headers ?? []) {
    for (const [name, bytes] of Object.entries(header)) headers[name] = Buffer.from(bytes.map((b) => b & 0xff)).toString('utf8');
  }
  const text = record.value ? Buffer.from(record.value, 'base64').toString('utf8') : '';
  return { value: text ? JSON.parse(text) : null, headers };
}

export function kafkaHandler<S extends z.ZodType>(
  { consumer, schema }: ConsumerOptions<S>,
  apply: (tx: Tx, event: ConsumedEvent<z.output<S>>) => Promise<void>,
) {
  const Envelope = EventEnvelope.extend({ data: schema });
  return middy<MSKEvent, KafkaBatchResponse, Error, Context>().use(traceHandler()).handler(async (event) => {
    const batchItemFailures: KafkaBatchResponse['batchItemFailures'] = [];
    const enqueued: string[] = [];
    for (const [partitionKey, records] of Object.entries(event.records)) {
      for (const record of records) {
        try {
          await applyRecord(record, enqueued);
        } catch (error) {
          logger.error('record failed; the partition resumes here', { consumer, partition: partitionKey, offset: record.offset, error: error as Error });
          batchItemFailures.push({ itemIdentifier: { partition: partitionKey, offset: Number(record.offset) } });
          break;
        } finally {
          logger.resetKeys();
        }
      }
    }
    await publishPending(enqueued);
    return { batchItemFailures };
  });

  async function applyRecord(record: MSKRecord, enqueued: string[]): Promise<void> {
    const { value, headers } = decodeRecord(record);
    const envelope = Envelope.parse(value);
    const correlationId = headers[CORRELATION_HEADER];
    logger.appendKeys({ correlationId, eventType: envelope.type, consumer });
    await inTransaction(async (tx) => {
      const [fresh] = await tx`
        insert into platform.processed_records (consumer, record_key) values (${consumer}, ${envelope.eventId})
        on conflict do nothing returning 1 as fresh`;
      if (!fresh) {
        logger.info('duplicate event skipped', { eventId: envelope.eventId });
        return;
      }
      await apply(tx, { ...envelope, correlationId, topic: record.topic, partition: record.partition, offset: Number(record.offset) } as ConsumedEvent<z.output<S>>);
    }, enqueued);
  }
}
