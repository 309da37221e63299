/**
 * The transactional outbox. `enqueue` writes an event in the caller's transaction; after the
 * transaction commits, `inTransaction` publishes what it enqueued at once (the fast path), and
 * the scheduled relay (`publishDue`) publishes anything left behind and every row whose
 * `availableAt` lies in the future: that is how the saga schedules delayed re-enqueues.
 * A Kafka batch applies each record in its own transaction but publishes what they all enqueued
 * once, after the batch (`inTransaction(work, pending)` then `publishPending(pending)`): one
 * publish transaction and one Kafka send per invocation instead of one per record.
 */
import { randomUUID } from 'node:crypto';
import { db, transaction, type Db, type Tx } from './db.ts';
import { CORRELATION_HEADER, type EventEnvelope } from './events.ts';
import { sendBatch } from './kafka/producer.ts';
import { logger } from './observability.ts';
import { topicName, type TopicName } from './topics.ts';

export interface OutboxMessage<T = unknown> {
  topic: TopicName;
  /** Partition key: the aggregate id (order id, product id). */
  key: string;
  type: string;
  data: T;
  correlationId?: string;
  /** Publish no earlier than this (delayed re-enqueue); now when unset. */
  availableAt?: Date;
}

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  payload: EventEnvelope;
  headers: Record<string, string>;
}

const enqueuedBy = new WeakMap<Tx, string[]>();

export async function enqueue<T>(tx: Tx, message: OutboxMessage<T>): Promise<string> {
  const envelope: EventEnvelope<T> = { eventId: randomUUID(), type: message.type, occurredAt: new Date().toISOString(), data: message.data };
  const headers = { 'event-type': message.type, ...(message.correlationId ? { [CORRELATION_HEADER]: message.correlationId } : {}) };
  const [row] = await tx<{ id: string }[]>`
    insert into platform.outbox (topic, key, payload, headers, available_at)
    values (${topicName(message.topic)}, ${message.key}, ${tx.json(envelope as never)}, ${tx.json(headers)}, ${message.availableAt ?? new Date()})
    returning id`;
  const id = row!.id;
  if (!message.availableAt || message.availableAt.getTime() <= Date.now()) enqueuedBy.get(tx)?.push(id);
  return id;
}

/**
 * Runs `work` in a transaction and, once it has committed, publishes the events it enqueued —
 * or, given `pending`, adds their ids there for the caller to publish later with `publishPending`.
 */
export async function inTransaction<T>(work: (tx: Tx) => Promise<T>, pending?: string[]): Promise<T> {
  const ids: string[] = [];
  const result = await transaction(db(), async (tx) => {
    enqueuedBy.set(tx, ids);
    return work(tx);
  });
  if (pending) pending.push(...ids);
  else await publishPending(ids);
  return result as T;
}

/**
 * Publishes committed outbox rows now (the fast path). A failed publish is only logged: the rows
 * stay unpublished and the relay sends them.
 */
export async function publishPending(ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  await publishRows(db(), [...ids]).catch((error: unknown) => logger.warn('outbox fast path failed; the relay will publish', { error: error as Error }));
}

/** Publishes the given unpublished rows (those not already locked by another publisher). */
export async function publishRows(sql: Db, ids: string[]): Promise<number> {
  return transaction(sql, async (tx) => {
    // Marked published and locked in one statement; the send failing rolls the mark back.
    const rows = await tx<OutboxRow[]>`
      update platform.outbox o set published_at = now(), attempts = o.attempts + 1
      from (select id from platform.outbox where id = any(${ids}::bigint[]) and published_at is null order by id for update skip locked) due
      where o.id = due.id
      returning o.id, o.topic, o.key, o.payload, o.headers`;
    return send(rows);
  });
}

const RELAY_LOCK = 7_201_156;

/**
 * Publishes up to `limit` due rows in id order. One relay at a time (an advisory lock), so two
 * relays never interleave one key's events; returns how many it sent (0 when another holds the lock).
 */
export async function publishDue(sql: Db, limit = 500): Promise<number> {
  return transaction(sql, async (tx) => {
    const [lock] = await tx<{ locked: boolean }[]>`select pg_try_advisory_xact_lock(${RELAY_LOCK}) as locked`;
    if (!lock?.locked) return 0;
    const rows = await tx<OutboxRow[]>`
      update platform.outbox o set published_at = now(), attempts = o.attempts + 1
      from (select id from platform.outbox where published_at is null and available_at <= now() order by id limit ${limit} for update skip locked) due
      where o.id = due.id
      returning o.id, o.topic, o.key, o.payload, o.headers`;
    return send(rows);
  });
}

/** Sends the rows to Kafka in id order (one key's events keep their order), one batch per call. */
async function send(rows: OutboxRow[]): Promise<number> {
  if (!rows.length) return 0;
  rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  const byTopic = new Map<string, OutboxRow[]>();
  for (const row of rows) {
    const topicRows = byTopic.get(row.topic);
    if (topicRows) topicRows.push(row);
    else byTopic.set(row.topic, [row]);
  }
  await sendBatch(
    [...byTopic].map(([topic, topicRows]) => ({
      topic,
      messages: topicRows.map((row) => ({ key: row.key, value: JSON.stringify(row.payload), headers: row.headers })),
    })),
  );
  return rows.length;
}
