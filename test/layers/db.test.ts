/**
 * The database client against the real server: a transaction its client can no longer finish (the
 * connection postgres.js cannot write on after a connection loss) does not hold its locks for the
 * connection's lifetime: the server ends it and the locks go with it.
 */
import { randomInt } from 'node:crypto';
import { createDb } from '#layers/db';
import { eventually, requireEnv } from '../support/api.ts';

const url = () => requireEnv('DATABASE_URL');

it('ends a transaction left idle, and its locks with it', async () => {
  const stalled = createDb(url(), 1, 500);
  const other = createDb(url(), 1);
  const key = randomInt(1, 2 ** 31);
  try {
    const connection = await stalled.reserve();
    await connection`begin`;
    const [session] = await connection<
      { pid: number }[]
    >`select pg_backend_pid() as pid, pg_advisory_xact_lock(${key})`;
    const pid = session!.pid;
    // The stalled client sends nothing more (postgres.js cannot, on the connection concerned).
    // Another session gets the lock once the server has ended the idle transaction; it would wait
    // for the lock timeout otherwise, and fail.
    await other.begin(async (tx) => {
      await tx`set local lock_timeout = '30s'`;
      await tx`select pg_advisory_xact_lock(${key})`;
    });
    await eventually(
      async () =>
        (await other<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where pid = ${pid}`)[0]!
          .n === 0,
      { what: 'the idle session ended by the server' },
    );
  } finally {
    await Promise.all([stalled.end({ timeout: 0 }), other.end()]);
  }
});
