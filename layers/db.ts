/**
 * The PostgreSQL client (postgres.js), one pool per Lambda container. Column names come back in
 * camelCase and objects passed to `sql(...)` are written in snake_case.
 */
import postgres, { type Sql, type TransactionSql } from 'postgres';
import { z } from 'zod';
import { databaseUrlFromSecret, readSecretFromSecretsManager } from './db-secret.ts';
import { readEnv } from './env.ts';
import { onConnectionLost } from './pg-crash-guard.ts';

// AWS stages pass DATABASE_SECRET_ARN instead of DATABASE_URL: resolve it during the cold start
// (module initialisation), so db() stays synchronous for every caller. Locally this is a no-op.
const urlFromSecret = await databaseUrlFromSecret(process.env, readSecretFromSecretsManager);
if (urlFromSecret) process.env.DATABASE_URL = urlFromSecret;

const DbEnv = z.object({
  DATABASE_URL: z
    .string()
    .min(1, 'DATABASE_URL (postgres://user:pass@host:5432/db) or DATABASE_SECRET_ARN is required'),
  // A Lambda instance runs one invocation at a time, so one connection is all it can use (the
  // local runtime runs instances the same way: infra/offline-concurrency.cjs).
  DB_POOL_MAX: z.coerce.number().int().positive().default(1),
});

export type Db = Sql;
export type Tx = TransactionSql;
/** Either the pool or an open transaction: domain functions accept both. */
export type Queryable = Sql | TransactionSql;

/**
 * How long the server lets a transaction sit idle before it ends the session. No transaction here
 * waits on anything but its own next statement (no call to another service inside one), so a
 * transaction idle this long belongs to a client that can no longer finish it: a connection that
 * postgres.js can no longer write on after a connection loss (pg-crash-guard.ts), whose row locks
 * would otherwise stay held until the connection's max_lifetime and stall every later step of the
 * same order. The server ends it and the locks go with it.
 */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;

export function createDb(
  url: string,
  max = 1,
  idleInTransactionTimeoutMs = IDLE_IN_TRANSACTION_TIMEOUT_MS,
): Sql {
  return postgres(url, {
    max,
    idle_timeout: 30,
    connect_timeout: 10,
    transform: postgres.camel,
    onnotice: () => {},
    // Lambda freezes containers between invocations; a dead pooled socket must not fail a request.
    max_lifetime: 60 * 10,
    connection: { idle_in_transaction_session_timeout: idleInTransactionTimeoutMs },
  });
}

let pool: Sql | undefined;

export function db(): Sql {
  if (!pool) {
    const env = readEnv(DbEnv);
    pool = createDb(env.DATABASE_URL, env.DB_POOL_MAX);
  }
  return pool;
}

// A lost connection can leave postgres.js unable to write on it again (pg-crash-guard.ts): drop
// the pool, the next db() starts a fresh one.
onConnectionLost(() => {
  const lost = pool;
  pool = undefined;
  lost?.end({ timeout: 0 }).catch(() => {});
});

/** Postgres error codes the handlers translate into HTTP or retry decisions. */
export const PgCode = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
} as const;

export function isPgError(error: unknown, code: string): error is postgres.PostgresError {
  return error instanceof postgres.PostgresError && error.code === code;
}
