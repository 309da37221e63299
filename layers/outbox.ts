/**
 * The transactional outbox. `publish` writes an event of the catalogue (events.ts) in the caller's
 * transaction; after the
 * transaction commits, `inTransaction` publishes what it enqueued at once (the fast path), and
 * the scheduled relay (`publishDue`) publishes anything left behind and every row whose
 * `availableAt` lies in the future: that is how the saga schedules delayed re-enqueues.
 * A Kafka batch applies each record in its own transaction but publishes what they all enqueued
 * once, after the batch (`inTransaction(work, pending)` then `publishPending(pending)`): one
 * publish transaction and one Kafka send per invocation instead of one per record.
 */
import { randomUUID } from 'node:crypto';
import type { PendingQuery, Row } from 'postgres';
import { db, type Db, type Tx } from './db.ts';
import { CORRELATION_HEADER, type EventDefinition, type EventEnvelope, type EventInput } from './events.ts';
import { sendBatch } from './kafka/producer.ts';
import { logger } from './observability.ts';
import { topicName } from './topics.ts';

export interface PublishOptions {
  /** Carried in the `correlation-id` header; the event's key (its aggregate id) when unset. */
  correlationId?: string | undefined;
  /** Publish no earlier than this (delayed re-enqueue); now when unset. */
  availableAt?: Date | undefined;
}

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  payload: EventEnvelope;
  headers: Record<string, string>;
}

const enqueuedBy = new WeakMap<Tx, string[]>();

/** Writes `event` to the outbox in `tx`: it is published once `tx` has committed. */
export async function publish<E extends EventDefinition>(
  tx: Tx,
  event: E,
  data: EventInput<E>,
  { correlationId, availableAt }: PublishOptions = {},
): Promise<string> {
  const key = event.key(data);
  const envelope: EventEnvelope<EventInput<E>> = {
    eventId: randomUUID(),
    type: event.type,
    occurredAt: new Date().toISOString(),
    data,
  };
  const headers = { 'event-type': event.type, [CORRELATION_HEADER]: correlationId ?? key };
  const [row] = await tx<{ id: string }[]>`
    insert into platform.outbox (topic, key, payload, headers, available_at)
    values (${topicName(event.topic)}, ${key}, ${tx.json(envelope as never)}, ${tx.json(headers)}, ${availableAt ?? new Date()})
    returning id`;
  const id = row!.id;
  if (!availableAt || availableAt.getTime() <= Date.now()) enqueuedBy.get(tx)?.push(id);
  return id;
}

/**
 * Runs `work` in a transaction and, once it has committed, publishes the events it enqueued —
 * or, given `pending`, adds their ids there for the caller to publish later with `publishPending`.
 */
export async function inTransaction<T>(work: (tx: Tx) => Promise<T>, pending?: string[]): Promise<T> {
  const ids: string[] = [];
  // postgres.js sql.begin, BEGIN awaited on its own: a version that pipelined BEGIN on a reserved
  // connection left a Kafka step hanging until its Lambda timeout after connection kills
  // (test/reliability/postgres-loss.test.ts in the full suite, twice in two runs).
  const result = await db().begin(async (tx) => {
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
  await publishRows(db(), [...ids]).catch((error: unknown) =>
    logger.warn('outbox fast path failed; the relay will publish', { error: error as Error }),
  );
}

/** Publishes the given unpublished rows (those not already locked by another publisher). */
export async function publishRows(sql: Db, ids: string[]): Promise<number> {
  return markAndSend(
    sql,
    (tx) =>
      tx`select id from platform.outbox where id = any(${ids}::bigint[]) and published_at is null order by id for update skip locked`,
  );
}

const RELAY_LOCK = 7_201_156;

/**
 * Publishes up to `limit` due rows in id order. One relay at a time (an advisory lock), so two
 * relays never interleave one key's events; returns how many it sent (0 when another holds the lock).
 */
export async function publishDue(sql: Db, limit = 500): Promise<number> {
  return markAndSend(
    sql,
    (tx) =>
      tx`select id from platform.outbox where published_at is null and available_at <= now() order by id limit ${limit} for update skip locked`,
    async (tx) => {
      const [lock] = await tx<
        { locked: boolean }[]
      >`select pg_try_advisory_xact_lock(${RELAY_LOCK}) as locked`;
      return Boolean(lock?.locked);
    },
  );
}

/**
 * Marks the rows `due` selects (and locks) as published and sends them, in one transaction: the
 * send failing rolls the mark back, and then the rows it tried get the attempt and the error
 * recorded, so an operator sees why a row is late (`last_error`); a later publish clears it.
 */
async function markAndSend(
  sql: Db,
  due: (tx: Tx) => PendingQuery<Row[]>,
  mayPublish: (tx: Tx) => Promise<boolean> = async () => true,
): Promise<number> {
  const attempted: string[] = [];
  try {
    return await sql.begin(async (tx) => {
      if (!(await mayPublish(tx))) return 0;
      const rows = await tx<OutboxRow[]>`
        update platform.outbox o set published_at = now(), attempts = o.attempts + 1, last_error = null
        from (${due(tx)}) due
        where o.id = due.id
        returning o.id, o.topic, o.key, o.payload, o.headers`;
      attempted.push(...rows.map((row) => row.id));
      return send(rows);
    });
  } catch (error) {
    if (attempted.length) {
      const reason = `${(error as Error).name}: ${(error as Error).message}`.slice(0, 1000);
      // Best effort: when the database is what failed, this fails too and the rows simply stay due.
      await sql`update platform.outbox set attempts = attempts + 1, last_error = ${reason}
                where id = any(${attempted}::bigint[]) and published_at is null`.catch(() => undefined);
    }
    throw error;
  }
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
      messages: topicRows.map((row) => ({
        key: row.key,
        value: JSON.stringify(row.payload),
        headers: row.headers,
      })),
    })),
  );
  return rows.length;
}
