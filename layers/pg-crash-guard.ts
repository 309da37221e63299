/**
 * Keeps a dropped PostgreSQL connection from killing the whole Lambda process.
 *
 * postgres.js 3.4.9 defers small writes with `setImmediate(nextWrite)`; when the connection closes
 * before that fires (the server terminated the backend, a failover, a network cut), `nextWrite`
 * calls `write` on a null socket and throws from the timer, where no caller can catch it
 * (porsager/postgres#1154, #1208; the upstream guard is not released). The query concerned was
 * already rejected with CONNECTION_CLOSED and its transaction is rolled back by the server, so the
 * error carries no information. Likewise a connection-loss error (57P01 "terminating connection due
 * to administrator command", CONNECTION_CLOSED…) that postgres.js rejects on a promise nobody awaits
 * any more. This swallows exactly those (logged as warnings) and lets every other uncaught
 * exception crash as usual. postgres.js may not write on that connection again (the write timer it
 * left armed is never reset), so db() drops its pool (`onConnectionLost`) and starts a fresh one.
 * test/reliability/postgres-loss.test.ts terminates backends mid-saga and found it.
 */
import { logger } from './observability.ts';

const GUARD = Symbol.for('shopstream.pgCrashGuard');
const listeners: (() => void)[] = [];

/** Called when a lost connection surfaced here: the pool may hold a connection that can no longer write. */
export function onConnectionLost(listener: () => void): void {
  listeners.push(listener);
}

/** Errors postgres.js raises when the server or the network drops the connection. */
const CONNECTION_LOST = new Set([
  // The server ended a session whose transaction sat idle too long (db.ts IDLE_IN_TRANSACTION_TIMEOUT_MS).
  '25P03',
  '57P01',
  '57P02',
  '57P03',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNRESET',
  'EPIPE',
]);

function isConnectionLoss(error: unknown): boolean {
  return error instanceof Error && CONNECTION_LOST.has(String((error as { code?: unknown }).code));
}

function isDroppedSocketWrite(error: unknown): boolean {
  // The first frame is postgres.js's nextWrite (bundled or not, with or without source maps).
  const firstFrame =
    error instanceof Error
      ? (error.stack ?? '').split('\n').find((line) => line.trim().startsWith('at '))
      : undefined;
  return (
    error instanceof TypeError &&
    /reading 'write'/.test(error.message) &&
    /^\s*at (?:Immediate\.)?nextWrite \(/.test(firstFrame ?? '')
  );
}

const registry = globalThis as { [GUARD]?: true };
if (!registry[GUARD]) {
  registry[GUARD] = true;
  process.on('uncaughtException', (error) => {
    if (isDroppedSocketWrite(error) || isConnectionLoss(error)) {
      logger.warn(
        'a lost PostgreSQL connection surfaced outside any caller; its query and transaction already failed; new pool',
        { error },
      );
      for (const listener of listeners) listener();
      return;
    }
    // Anything else: crash as Node would without this listener.
    process.removeAllListeners('uncaughtException');
    throw error;
  });
}
