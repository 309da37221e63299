/**
 * Dependency checks for GET /health: a `select 1` and a Kafka cluster description, with timeouts,
 * and the Lambda runtime the function runs on (CI compares it with serverless.yml's).
 */
import { db } from './db.ts';
import { kafkaClient } from './kafka/producer.ts';

export interface DependencyStatus {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

async function timed(check: () => Promise<unknown>, timeoutMs: number): Promise<DependencyStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkDependencies() {
  const [postgres, kafka] = await Promise.all([
    timed(() => db()`select 1`, 2000),
    timed(async () => {
      const admin = kafkaClient().admin();
      await admin.connect();
      try {
        await admin.describeCluster();
      } finally {
        await admin.disconnect();
      }
    }, 3000),
  ]);
  const runtime = `nodejs${process.versions.node.split('.')[0]}.x`;
  return {
    status: postgres.ok && kafka.ok ? ('ok' as const) : ('degraded' as const),
    postgres,
    kafka,
    runtime,
  };
}
