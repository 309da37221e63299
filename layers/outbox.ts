/**
 * The transactional outbox. `publish` writes an event of the catalogue (events.ts) in the caller's
 * transaction; after the transaction commits, `inTransaction` sends what it enqueued at once (the
 * fast path: the rows as they were written, then one statement marks them published), and the
 * scheduled relay (`publishDue`) publishes anything the fast path left behind and every row whose
 * `availableAt` lies in the future: that is how the saga schedules delayed re-enqueues.
 * A Kafka batch applies each record in its own transaction but publishes what they all enqueued
 * once, after the batch (`inTransaction(work, pending)` then `publishPending(pending)`): one
 * Kafka send and one mark per invocation instead of one per record.
 *
 * A state change that is one statement of its own (no transaction) writes its event in that
 * statement: `draft` builds the row, `insertDue` inserts it as a CTE (placeOrder) or a SQL function
 * takes it as JSON (inventory.reserve_order), and the caller sends it with `publishPending`.
 *
 * Delivery is at least once: a row is sent before it is marked, so a crash in between (or the
 * relay taking a row the fast path is still sending) sends it twice, and every consumer skips an
 * event it has already applied (platform.processed_records).
 */
import { randomUUID } from 'node:crypto';
import type { PendingQuery, Row } from 'postgres';
import { db, type Db, type Queryable, type Tx } from './db.ts';
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

/** An outbox row as it is sent: written by `publish`, read back by the relay. */
export interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  payload: EventEnvelope;
  headers: Record<string, string>;
}

/**
 * How long the relay leaves a row that is due at once to the fast path of the transaction that
 * wrote it (from that transaction's start): past it, the fast path failed or its process died.
 */
const FAST_PATH_GRACE = '5 seconds';

const enqueuedBy = new WeakMap<Tx, OutboxRow[]>();

/** An event as its outbox row will hold it, before it is written (`publish`, or a statement of the caller's). */
export type DraftRow = Omit<OutboxRow, 'id'>;

/** The outbox row of `event`: a new event id, the topic's full name, the key and the headers. */
export function draft<E extends EventDefinition>(
  event: E,
  data: EventInput<E>,
  correlationId?: string,
): DraftRow {
  const key = event.key(data);
  const payload: EventEnvelope<EventInput<E>> = {
    eventId: randomUUID(),
    type: event.type,
    occurredAt: new Date().toISOString(),
    data,
  };
  const headers = { 'event-type': event.type, [CORRELATION_HEADER]: correlationId ?? key };
  return { topic: topicName(event.topic), key, payload, headers };
}

/** Writes `event` to the outbox in `tx`: it is published once `tx` has committed. */
export async function publish<E extends EventDefinition>(
  tx: Tx,
  event: E,
  data: EventInput<E>,
  { correlationId, availableAt }: PublishOptions = {},
): Promise<string> {
  return publishDraft(tx, draft(event, data, correlationId), availableAt);
}

/** Writes an event's drafted row (`draft`) to the outbox in `tx`, as `publish` does. */
export async function publishDraft(tx: Tx, row: DraftRow, availableAt?: Date): Promise<string> {
  // Due at once: available_at is the transaction's own start (created_at), which tells the relay
  // the row is the fast path's for FAST_PATH_GRACE.
  const [written] = await tx<{ id: string }[]>`
    insert into platform.outbox (topic, key, payload, headers, available_at)
    values (${row.topic}, ${row.key}, ${tx.json(row.payload as never)}, ${tx.json(row.headers)}, coalesce(${availableAt ?? null}::timestamptz, now()))
    returning id`;
  const id = written!.id;
  if (!availableAt || availableAt.getTime() <= Date.now()) enqueuedBy.get(tx)?.push({ id, ...row });
  return id;
}

/**
 * The insert of `row` (due at once) as the body of a CTE in a caller's own statement, returning
 * its id: written once per row of the earlier CTE `onlyWith`, so the event exists only if the
 * statement's own write happened. The caller sends it (`publishPending`) once the statement has
 * committed.
 */
export function insertDue(sql: Queryable, row: DraftRow, onlyWith: string): PendingQuery<Row[]> {
  return sql`
    insert into platform.outbox (topic, key, payload, headers, available_at)
    select ${row.topic}, ${row.key}, ${sql.json(row.payload as never)}, ${sql.json(row.headers)}, now()
    from ${sql(onlyWith)}
    returning id`;
}

/**
 * Runs `work` in a transaction and, once it has committed, publishes the events it enqueued —
 * or, given `pending`, adds them there for the caller to publish later with `publishPending`.
 */
export async function inTransaction<T>(work: (tx: Tx) => Promise<T>, pending?: OutboxRow[]): Promise<T> {
  const rows: OutboxRow[] = [];
  // postgres.js sql.begin, BEGIN awaited on its own: a version that pipelined BEGIN on a reserved
  // connection left a Kafka step hanging until its Lambda timeout after connection kills
  // (test/reliability/postgres-loss.test.ts in the full suite, twice in two runs).
  const result = await db().begin(async (tx) => {
    enqueuedBy.set(tx, rows);
    return work(tx);
  });
  if (pending) pending.push(...rows);
  else await publishPending(rows);
  return result as T;
}

/**
 * The fast path: sends committed outbox rows as they were written, then marks them published. A
 * failed send is only logged and recorded on the rows (`attempts`, `last_error`): they stay
 * unpublished and the relay sends them once FAST_PATH_GRACE has passed.
 */
export async function publishPending(rows: readonly OutboxRow[]): Promise<void> {
  if (!rows.length) return;
  const ids = rows.map((row) => row.id);
  const sql = db();
  try {
    await send([...rows]);
  } catch (error) {
    logger.warn('outbox fast path failed; the relay will publish', { error: error as Error });
    return recordFailure(sql, ids, error);
  }
  await sql`update platform.outbox set published_at = now(), attempts = attempts + 1, last_error = null
            where id = any(${ids}::bigint[]) and published_at is null`.catch((error: unknown) =>
    // Sent but not marked: the relay sends them again after the grace; consumers skip the repeat.
    logger.warn('outbox rows sent but not marked published', { error: error as Error }),
  );
}

const RELAY_LOCK = 7_201_156;

/** Rows the relay takes: due, and not due at once from a transaction that started moments ago. */
const relayDue = (sql: Db | Tx) => sql`
  published_at is null and available_at <= now()
  and (available_at > created_at or created_at < now() - ${FAST_PATH_GRACE}::interval)`;

/**
 * Publishes up to `limit` due rows in id order. One relay at a time (an advisory lock), so two
 * relays never interleave one key's events; returns how many it sent (0 when another holds the
 * lock). A pass that finds nothing due costs one statement.
 */
export async function publishDue(sql: Db, limit = 500): Promise<number> {
  const [anyDue] = await sql`select 1 from platform.outbox where ${relayDue(sql)} limit 1`;
  if (!anyDue) return 0;
  return markAndSend(
    sql,
    (tx) =>
      tx`select id from platform.outbox where ${relayDue(tx)} order by id limit ${limit} for update skip locked`,
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
  mayPublish: (tx: Tx) => Promise<boolean>,
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
    await recordFailure(sql, attempted, error);
    throw error;
  }
}

/** Records a failed send on the rows it tried (best effort: when the database failed, so does this). */
async function recordFailure(sql: Db, ids: readonly string[], error: unknown): Promise<void> {
  if (!ids.length) return;
  const reason = `${(error as Error).name}: ${(error as Error).message}`.slice(0, 1000);
  await sql`update platform.outbox set attempts = attempts + 1, last_error = ${reason}
            where id = any(${ids}::bigint[]) and published_at is null`.catch(() => undefined);
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
