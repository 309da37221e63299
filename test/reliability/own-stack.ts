/**
 * A whole stack of a test's own, for faults the shared one must not see: serverless-offline with
 * the Kafka triggers on a fresh topic prefix (infra/cli/stack.ts startStack), on an embedded
 * PostgreSQL server of its own (free port, throwaway data directory) and a single-node Kafka
 * broker of its own (infra/local/kafka.ts), which the test may stop and start for real. The
 * machine's PostgreSQL and the shared broker are never touched. While the stack is up, the test
 * helpers (API_URL, DATABASE_URL, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, OFFLINE_LOG) point at it.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startStack, type Stack } from '../../infra/cli/stack.ts';
import { ensurePostgres, type PostgresHandle } from '../../infra/local/postgres.ts';
import { startLocalBroker, type KafkaHandle } from '../../infra/local/kafka.ts';
import { freePort, isPortOpen, log, sleep } from '../../infra/local/process.ts';

export interface OwnStack {
  env: Record<string, string>;
  /** Fast shutdown of the stack's PostgreSQL server (every connection dropped, the port closed). */
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  /** Stops the Kafka broker, waits `downMs`, starts it again on the same data. */
  restartBroker(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!(await isPortOpen('127.0.0.1', port + 1))) return port; // +1 is the KRaft controller
  }
}

export async function startOwnStack(name: string): Promise<OwnStack> {
  const dataDir = path.join(ROOT, '.cache', 'postgres', 'runs', `${name}-${process.pid}-${Date.now()}`);
  const port = await freePort();
  // A persistent data directory: stopping the server keeps it, and starting it again on the same
  // directory and port is a restart (infra/local/postgres.ts starts an existing directory as it is).
  const startServer = () =>
    ensurePostgres({
      database: 'shopstream_reliability',
      forceEmbedded: true,
      embeddedDataDir: dataDir,
      embeddedPort: port,
    });
  let server: PostgresHandle | undefined = await startServer();
  const brokerDir = `${dataDir}-kafka`;
  mkdirSync(brokerDir, { recursive: true });
  const brokerPort = await freePortPair();
  let broker: KafkaHandle | undefined;
  const saved = { ...process.env };
  let stack: Stack | undefined;
  const stopAll = async () => {
    await stack?.stop();
    await broker?.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(brokerDir, { recursive: true, force: true });
    process.env = saved;
  };
  try {
    broker = await startLocalBroker(brokerPort, brokerDir);
    // The stack takes a given DATABASE_URL and KAFKA_BROKERS as they are (infra/local).
    process.env.DATABASE_URL = server.url;
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    const offlineLog = path.join(ROOT, '.cache', 'logs', `offline-${name}-${process.pid}.log`);
    stack = await startStack({
      mode: 'test',
      httpPort: await freePort(),
      lambdaPort: await freePort(),
      offlineOutput: offlineLog,
    });
    Object.assign(process.env, stack.env, { OFFLINE_LOG: offlineLog });
    log(
      `${name}: own stack up (PostgreSQL on :${port}, Kafka on ${process.env.KAFKA_BROKERS}, serverless-offline output in ${path.relative(ROOT, offlineLog)})`,
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    env: stack.env,
    stopPostgres: async () => {
      await server?.stop();
      server = undefined;
    },
    startPostgres: async () => {
      server = await startServer();
    },
    restartBroker: async (downMs) => {
      await broker?.stop();
      broker = undefined;
      await sleep(downMs);
      broker = await startLocalBroker(brokerPort, brokerDir);
    },
    stop: stopAll,
  };
}
