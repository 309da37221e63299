/**
 * A whole stack of a test's own, for faults the shared one must not see: serverless-offline with
 * the Kafka triggers on a fresh topic prefix (infra/cli/stack.ts startStack), on an embedded
 * PostgreSQL server of its own (free port, throwaway data directory) that the test may stop and
 * start for real. The machine's PostgreSQL is never touched. While the stack is up, the test
 * helpers (API_URL, DATABASE_URL, KAFKA_TOPIC_PREFIX, OFFLINE_LOG) point at it.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startStack, type Stack } from '../../infra/cli/stack.ts';
import { embeddedServer, createDatabase, withDatabase } from '../../infra/local/postgres.ts';
import { freePort, log } from '../../infra/local/process.ts';

export interface OwnStack {
  env: Record<string, string>;
  /** Fast shutdown of the stack's PostgreSQL server (every connection dropped, the port closed). */
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOwnStack(name: string): Promise<OwnStack> {
  const dataDir = path.join(ROOT, '.cache', 'postgres', 'runs', `${name}-${process.pid}-${Date.now()}`);
  const port = await freePort();
  const server = await embeddedServer(dataDir, port);
  await server.initialise();
  await server.start();
  const adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  await createDatabase(adminUrl, 'shopstream');
  const saved = { ...process.env };
  let stack: Stack | undefined;
  let postgresUp = true;
  const stopAll = async () => {
    await stack?.stop();
    if (postgresUp) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
    process.env = saved;
  };
  try {
    // The stack takes a given DATABASE_URL as it is (infra/local/postgres.ts).
    process.env.DATABASE_URL = withDatabase(adminUrl, 'shopstream');
    // The mappings' limits issue 13 sets in the template (the record age ends the retries, the
    // count no longer does), applied here too in case the template still limits the count.
    process.env.OFFLINE_MSK_MAXIMUM_RETRY_ATTEMPTS ??= '10000';
    process.env.OFFLINE_MSK_MAXIMUM_RECORD_AGE_SECONDS ??= '3600';
    const offlineLog = path.join(ROOT, '.cache', 'logs', `offline-${name}-${process.pid}.log`);
    stack = await startStack({
      mode: 'test',
      httpPort: await freePort(),
      lambdaPort: await freePort(),
      offlineOutput: offlineLog,
    });
    Object.assign(process.env, stack.env, { OFFLINE_LOG: offlineLog });
    log(
      `${name}: own stack up (PostgreSQL on :${port}, serverless-offline output in ${path.relative(ROOT, offlineLog)})`,
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    env: stack.env,
    stopPostgres: async () => {
      await server.stop();
      postgresUp = false;
    },
    startPostgres: async () => {
      await server.start();
      postgresUp = true;
    },
    stop: stopAll,
  };
}
