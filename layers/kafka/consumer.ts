/**
 * Kafka-triggered handlers (MSK / self-managed Kafka event source mappings).
 *
 * Records are applied one at a time, in partition order, each in its own transaction that also
 * records the event id in platform.processed_records: a redelivered event is recognised and
 * skipped, so every consumer is idempotent. When a record fails, the partition stops there and
 * the handler reports it as a partial batch failure (`ReportBatchItemFailures`), so the mapping
 * resumes that partition at the failed offset while the other partitions' progress is kept.
 * The events the applied records enqueued are published once, after the batch.
 *
 * Errors decide a record's fate (errors.ts `isRetryable`). One that cannot succeed on retry (not
 * JSON, the wrong schema, a business rule) is written by the handler itself to `<topic>.dlq` on its
 * first failure, with the reason in `lambda-esm-*` headers (the names the offline MSK plugin's
 * dead letters use, so `npm run dlq:replay` treats both alike), and the partition goes on. One that
 * may pass (the database or broker unreachable, too many clients, a lock or statement timeout)
 * stops its partition and is reported as a partial batch failure: the mapping retries it with
 * backoff until it succeeds or is older than MaximumRecordAgeInSeconds.
 *
 * A step that calls another service passes `prepare`: it runs before the record's transaction,
 * with none open (so no lock or connection is held across the call), and its result is handed to
 * `apply` in the transaction that records the event as processed.
 *
 * A step that can apply a record with one statement passes `applyInOneStatement` (claim and outbox
 * rows written by that statement; no transaction), given `prepare`'s result where there is one:
 * one round trip instead of four. It may decline a record, which `apply` then takes.
 */
import middy from '@middy/core';
import type { Context, MSKEvent, MSKRecord } from 'aws-lambda';
import { z } from 'zod';
import type { IHeaders } from 'kafkajs';
import { db, isPgError, PgCode, type Tx } from '../db.ts';
import { isRetryable } from '../errors.ts';
import { CORRELATION_HEADER, EventEnvelope, type EventDefinition, type EventOf } from '../events.ts';
import { inTransaction, publishPending, type OutboxRow } from '../outbox.ts';
import { logger, traceHandler } from '../observability.ts';
import { deadLetterTopic } from '../topics.ts';
import { DEAD_LETTER_HEADERS, NON_RETRYABLE_CONDITION } from './dead-letters.ts';
import { sendBatch } from './producer.ts';

export interface KafkaBatchResponse {
  batchItemFailures: { itemIdentifier: { partition: string; offset: number } }[];
}

/** A record as a consumer receives it: one of the events it listens to, its data parsed. */
export type ConsumedEvent<E extends EventDefinition> = EventOf<E> & {
  eventId: string;
  occurredAt: string;
  correlationId?: string | undefined;
  topic: string;
  partition: number;
  offset: number;
};

export interface ConsumerOptions<E extends EventDefinition, P> {
  /** Stable name of this consumer; part of the idempotency key. */
  consumer: string;
  /**
   * The event (or events, one per topic of the trigger) this consumer takes, from the catalogue
   * (events.ts). A record of another type or shape cannot succeed: it is dead-lettered.
   */
  events: E | readonly E[];
  /**
   * Work before the record's transaction, with no transaction open (a call to another service);
   * skipped for an event already applied. Its result is `apply`'s third argument.
   */
  prepare?: (event: ConsumedEvent<E>) => Promise<P>;
  /**
   * Applies the record with one statement of the step's own, outside any transaction (after
   * `prepare`, with its result): that statement also writes the record's claim (`claim`) and the
   * outbox rows it publishes, so the record costs one round trip and the rows it locks stay locked
   * for that statement only. Returns the outbox rows it wrote (sent after the batch),
   * `'duplicate'` when the claim was there already, or `'declined'` (nothing written) to have
   * `apply` take the record in a transaction.
   */
  applyInOneStatement?: (
    claim: Claim,
    event: ConsumedEvent<E>,
    prepared: P,
  ) => Promise<OutboxRow[] | 'duplicate' | 'declined'>;
}

/** A record's entry in platform.processed_records: who applied which event. */
export interface Claim {
  consumer: string;
  recordKey: string;
}

/** Decodes an MSK record's base64 value and header byte arrays. */
export function decodeRecord(record: MSKRecord): { value: unknown; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const header of record.headers ?? []) {
    for (const [name, bytes] of Object.entries(header))
      headers[name] = Buffer.from(bytes.map((b) => b & 0xff)).toString('utf8');
  }
  const text = record.value ? Buffer.from(record.value, 'base64').toString('utf8') : '';
  return { value: text ? JSON.parse(text) : null, headers };
}

/** The envelope schema of the given events: one branch per type, told apart by `type`. */
function envelopeOf(events: readonly EventDefinition[]): z.ZodType<EventEnvelope> {
  const branches = events.map((event) =>
    EventEnvelope.extend({ type: z.literal(event.type), data: event.data }),
  );
  const [first, ...rest] = branches;
  if (!first) throw new Error('kafkaHandler needs at least one event');
  return (rest.length ? z.discriminatedUnion('type', [first, ...rest]) : first) as z.ZodType<EventEnvelope>;
}

export function kafkaHandler<E extends EventDefinition, P = undefined>(
  { consumer, events, prepare, applyInOneStatement }: ConsumerOptions<E, P>,
  apply: (tx: Tx, event: ConsumedEvent<E>, prepared: P) => Promise<void>,
) {
  const Envelope = envelopeOf(Array.isArray(events) ? events : [events as E]);
  return middy<MSKEvent, KafkaBatchResponse, Error, Context>()
    .use(traceHandler())
    .handler(async (event) => {
      const batchItemFailures: KafkaBatchResponse['batchItemFailures'] = [];
      const enqueued: OutboxRow[] = [];
      for (const [partitionKey, records] of Object.entries(event.records)) {
        for (const record of records) {
          try {
            await applyRecord(record, enqueued);
          } catch (error) {
            if (!isRetryable(error) && (await deadLetter(record, error))) continue;
            logger.warn('record failed and may pass on retry; the partition resumes here', {
              consumer,
              partition: partitionKey,
              offset: record.offset,
              error: error as Error,
            });
            batchItemFailures.push({
              itemIdentifier: { partition: partitionKey, offset: Number(record.offset) },
            });
            break;
          } finally {
            logger.resetKeys();
          }
        }
      }
      await publishPending(enqueued);
      return { batchItemFailures };
    });

  async function applyRecord(record: MSKRecord, enqueued: OutboxRow[]): Promise<void> {
    const { value, headers } = decodeRecord(record);
    const envelope = Envelope.parse(value);
    const correlationId = headers[CORRELATION_HEADER];
    logger.appendKeys({ correlationId, eventType: envelope.type, consumer });
    const consumed = {
      ...envelope,
      correlationId,
      topic: record.topic,
      partition: record.partition,
      offset: Number(record.offset),
    } as ConsumedEvent<E>;
    let prepared = undefined as P;
    if (prepare) {
      if (await alreadyApplied(envelope.eventId))
        return logger.info('duplicate event skipped', { eventId: envelope.eventId });
      prepared = await prepare(consumed);
    }
    if (applyInOneStatement) {
      const done = await applyInOneStatement({ consumer, recordKey: envelope.eventId }, consumed, prepared);
      if (done === 'duplicate') return logger.info('duplicate event skipped', { eventId: envelope.eventId });
      if (done !== 'declined') return void enqueued.push(...done);
    }
    const applied = await inTransaction(
      (tx) => claimAndApply(tx, consumer, envelope.eventId, (claimed) => apply(claimed, consumed, prepared)),
      enqueued,
    ).catch(unlessDuplicate);
    if (!applied) logger.info('duplicate event skipped', { eventId: envelope.eventId });
  }

  async function alreadyApplied(eventId: string): Promise<boolean> {
    const [row] =
      await db()`select 1 from platform.processed_records where consumer = ${consumer} and record_key = ${eventId}`;
    return Boolean(row);
  }

  /**
   * Writes a record that cannot succeed to `<topic>.dlq`: its key, value and headers as they came,
   * plus why. Returns false when that failed too (the broker away): the record is then retried.
   */
  async function deadLetter(record: MSKRecord, error: unknown): Promise<boolean> {
    const failure = error instanceof Error ? error : new Error(String(error));
    const H = DEAD_LETTER_HEADERS;
    const headers: IHeaders = {
      ...originalHeaders(record),
      [H.sourceTopic]: record.topic,
      [H.sourcePartition]: String(record.partition),
      [H.sourceOffset]: String(record.offset),
      [H.function]: process.env.AWS_LAMBDA_FUNCTION_NAME ?? consumer,
      [H.consumer]: consumer,
      [H.condition]: NON_RETRYABLE_CONDITION,
      [H.error]: `${failure.name}: ${failure.message}`.slice(0, 4000),
      [H.errorClass]: failure.name,
      [H.attempts]: '1',
    };
    const message = {
      key: record.key ? Buffer.from(record.key, 'base64') : null,
      value: record.value ? Buffer.from(record.value, 'base64') : null,
      headers,
    };
    try {
      await sendBatch([{ topic: deadLetterTopic(record.topic), messages: [message] }]);
      logger.warn('record cannot succeed on retry; dead-lettered', {
        consumer,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        error: failure,
      });
      return true;
    } catch (sendError) {
      logger.error(
        'record cannot succeed on retry, but writing it to the dead-letter topic failed; retried',
        { consumer, offset: record.offset, error: failure, sendError: sendError as Error },
      );
      return false;
    }
  }
}

/**
 * In the record's transaction: claims the event for `consumer` (platform.processed_records) and
 * applies it, the claim pipelined with apply's first statement (one round trip for both). A claim
 * that finds the event already processed fails (unique violation), which aborts the transaction
 * in the server before apply's statements run, so none of them takes effect and apply stops at its
 * first statement; `unlessDuplicate` turns that into "skipped". bench/reserve-driver.ts runs this
 * same function.
 */
export async function claimAndApply(
  tx: Tx,
  consumer: string,
  eventId: string,
  apply: (tx: Tx) => Promise<void>,
): Promise<true> {
  const claim =
    tx`insert into platform.processed_records (consumer, record_key) values (${consumer}, ${eventId})`.execute();
  const [claimed, applied] = await Promise.allSettled([claim, apply(tx)]);
  if (claimed.status === 'rejected') throw claimed.reason;
  if (applied.status === 'rejected') throw applied.reason;
  return true;
}

/** `false` for a claim of an event already processed (claimAndApply); rethrows anything else. */
export function unlessDuplicate(error: unknown): false {
  if (isPgError(error, PgCode.uniqueViolation) && error.table_name === 'processed_records') return false;
  throw error;
}

/** An MSK record's headers as kafkajs takes them (original bytes; repeated names kept). */
function originalHeaders(record: MSKRecord): IHeaders {
  const headers: Record<string, Buffer[]> = {};
  for (const header of record.headers ?? [])
    for (const [name, bytes] of Object.entries(header))
      (headers[name] ??= []).push(Buffer.from(bytes.map((b) => b & 0xff)));
  return Object.fromEntries(
    Object.entries(headers).map(([name, values]) => [name, values.length === 1 ? values[0]! : values]),
  );
}
