/**
 * Brings the whole local system up — Postgres, Kafka, migrations, topics, serverless-offline with
 * the offline Kafka triggers — and takes it down again. Shared by `npm start` and `npm test`.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import postgres from 'postgres';
import { migrate } from '../db/migrate.ts';
import { loadMigrations } from '../db/load-migrations.ts';
import { createTopics, ensureKafka, type KafkaHandle } from '../local/kafka.ts';
import { dropDatabase, ensurePostgres, type PostgresHandle } from '../local/postgres.ts';
import { log, spawnTethered, stopChild, waitFor } from '../local/process.ts';

const { STARTED_LINE: MSK_STARTED_LINE } = createRequire(import.meta.url)('../offline-msk/index.js') as { STARTED_LINE: string };

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const DEFAULT_ADMIN_API_KEY = 'local-admin-key';

export interface StackOptions {
  /** `start` keeps data between runs; `test` uses a fresh database and topic prefix and removes them. */
  mode: 'start' | 'test';
  httpPort: number;
  lambdaPort: number;
  /** Where serverless-offline's output goes: the terminal, or a log file. */
  offlineOutput: 'inherit' | string;
  /** Extra Node.js options for the serverless-offline process (bench/profile.ts: --cpu-prof). */
  offlineNodeArgs?: string[];
  /** Extra environment of the serverless-offline process (bench/: runtime modes side by side). */
  offlineEnv?: Record<string, string>;
}

export interface Stack {
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const started = Date.now();
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
    cleanups.length = 0;
  };
  try {
    const isTest = options.mode === 'test';
    const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
    const database = isTest ? `shopstream_test_${runId}` : 'shopstream';
    const topicPrefix = isTest ? `test-${runId}.` : (process.env.KAFKA_TOPIC_PREFIX ?? '');

    const [pg, kafka] = await Promise.all([
      ensurePostgres({ database, ...(isTest ? {} : { embeddedDataDir: path.join(ROOT, '.cache', 'postgres', 'data') }) }),
      ensureKafka(isTest ? {} : { dataDir: path.join(ROOT, '.cache', 'kafka', 'data') }),
    ]);
    cleanups.push(() => stopPostgres(pg, isTest ? database : undefined), () => stopKafka(kafka));

    const applied = await migrateDatabase(pg.url);
    log(`Postgres: ${applied.length ? `applied ${applied.join(', ')}` : 'schema up to date'}`);
    const topics = await createTopics(kafka.brokers, topicPrefix);
    log(`Kafka: ${topics.length} topics ready${topicPrefix ? ` (prefix ${topicPrefix})` : ''}`);

    const env: Record<string, string> = {
      DATABASE_URL: pg.url,
      KAFKA_BROKERS: kafka.brokers.join(','),
      KAFKA_TOPIC_PREFIX: topicPrefix,
      ADMIN_API_KEY: process.env.ADMIN_API_KEY ?? DEFAULT_ADMIN_API_KEY,
      HTTP_PORT: String(options.httpPort),
      LAMBDA_PORT: String(options.lambdaPort),
      API_URL: `http://127.0.0.1:${options.httpPort}`,
      LAMBDA_ENDPOINT: `http://127.0.0.1:${options.lambdaPort}`,
    };
    const offline = await startOffline(env, options);
    cleanups.push(offline);
    log(`up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return { env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function migrateDatabase(url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await migrate(sql, loadMigrations());
  } finally {
    await sql.end();
  }
}

async function stopPostgres(pg: PostgresHandle, testDatabase?: string) {
  if (testDatabase && !process.env.KEEP_TEST_DB) await dropDatabase(pg.adminUrl, testDatabase);
  await pg.stop();
}

async function stopKafka(kafka: KafkaHandle) {
  if (kafka.started) log('Kafka: stopping the broker');
  await kafka.stop();
}

async function startOffline(env: Record<string, string>, options: StackOptions): Promise<() => Promise<void>> {
  const logFile = options.offlineOutput === 'inherit' ? undefined : options.offlineOutput;
  log(`serverless-offline: bundling and starting (API on :${options.httpPort}, Lambda endpoint on :${options.lambdaPort})${logFile ? `, output in ${path.relative(ROOT, logFile)}` : ''}`);
  const child = spawnTethered(process.execPath, [...(options.offlineNodeArgs ?? []), path.join(ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js'), 'offline', 'start', '--stage', 'local'], {
    cwd: ROOT,
    env: { ...process.env, ...env, ...options.offlineEnv, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  if (logFile) {
    mkdirSync(path.dirname(logFile), { recursive: true });
    const out = createWriteStream(logFile);
    // Two sources share one file: neither may end it, or the other's late output fails the run.
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    child.once('close', () => out.end());
  } else {
    child.stdout?.pipe(process.stdout);
    child.stderr?.pipe(process.stderr);
  }
  let exited = false;
  child.once('exit', () => (exited = true));
  // The offline MSK plugin starts its consumers after serverless-offline listens; until they have
  // joined their groups (seconds on a fresh broker) no order gets past PENDING: not ready before.
  let triggersStarted = false;
  let tail = '';
  const watchOutput = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-500);
    if (tail.includes(`offline-msk: ${MSK_STARTED_LINE}`)) {
      triggersStarted = true;
      child.stdout?.off('data', watchOutput);
      child.stderr?.off('data', watchOutput);
    }
  };
  child.stdout?.on('data', watchOutput);
  child.stderr?.on('data', watchOutput);
  const stop = () => stopChild(child, 10_000);
  try {
    await waitFor('[shopstream] serverless-offline: waiting for GET /health', async () => {
      if (exited) throw new Error(`serverless-offline exited during start-up${logFile ? `; see ${logFile}` : ''}`);
      const response = await fetch(`${env.API_URL}/health`, { signal: AbortSignal.timeout(5000) });
      return response.status === 200;
    }, { timeoutMs: 300_000 });
    await waitFor('[shopstream] offline-msk: waiting for the Kafka triggers to join their groups', async () => {
      if (exited) throw new Error(`serverless-offline exited during start-up${logFile ? `; see ${logFile}` : ''}`);
      return triggersStarted;
    }, { timeoutMs: 120_000 });
  } catch (error) {
    await stop();
    throw error;
  }
  kickRelay(env.LAMBDA_ENDPOINT!);
  return stop;
}

/**
 * serverless-offline fires `schedule` events on the next whole minute; start the relay now so
 * delayed re-enqueues are published from the first second. A RequestResponse call we do not
 * await, rather than an `Event` invoke: serverless-offline 13 leaves an asynchronous invocation's
 * failure (a timeout under load) unhandled, and that unhandled rejection kills the gateway.
 */
function kickRelay(endpoint: string): void {
  const lambda = new LambdaClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  lambda
    .send(new InvokeCommand({ FunctionName: 'shopstream-local-outboxRelay', InvocationType: 'RequestResponse' }))
    .catch(() => {}) // the schedule starts it again within a minute
    .finally(() => lambda.destroy());
}
