/**
 * `npm run chaos [-- jest args]`: the long reliability soak (RELIABILITY.md). Starts a Kafka broker
 * of its own (so it can restart it without disturbing anyone), a throwaway stack on it, and runs
 * test/reliability — the `npm test` cases at a larger scale (RELIABILITY_SCALE, FUZZ_RUNS, a
 * five-minute PostgreSQL outage: POSTGRES_OUTAGE_SECONDS) plus the chaos-only cases (`*.chaos.ts`:
 * broker restart with 200 orders in flight). The tests restart the
 * broker through a small control endpoint (CHAOS_CONTROL_URL, POST /broker/restart?downMs=).
 */
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalBroker, type KafkaHandle } from '../local/kafka.ts';
import { freePort, isPortOpen, log, sleep } from '../local/process.ts';
import { ROOT, startStack } from './stack.ts';

async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!(await isPortOpen('127.0.0.1', port + 1))) return port; // +1 is the KRaft controller
  }
}

export async function main(args: string[]): Promise<number> {
  process.env.PAYMENT_RETRY_BASE_MS ??= '200';
  process.env.OFFLINE_MSK_RETRY_BASE_MS ??= '200';
  process.env.RELIABILITY_SCALE ??= '5';
  process.env.FUZZ_RUNS ??= '200';
  process.env.FUZZ_SEED ??= 'random';
  // test/reliability/restarts.test.ts: a five-minute database outage instead of two.
  process.env.POSTGRES_OUTAGE_SECONDS ??= '300';
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'shopstream-chaos-kafka-'));
  const port = await freePortPair();
  let broker: KafkaHandle | undefined = await startLocalBroker(port, dataDir);
  process.env.KAFKA_BROKERS = broker.brokers.join(',');

  let restarting = false;
  const control = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'POST' || url.pathname !== '/broker/restart' || restarting) {
      res.writeHead(restarting ? 409 : 404).end();
      return;
    }
    restarting = true;
    const downMs = Number(url.searchParams.get('downMs') ?? 3000);
    void (async () => {
      try {
        log(`chaos: stopping the broker for ${downMs} ms`);
        await broker?.stop();
        broker = undefined;
        await sleep(downMs);
        broker = await startLocalBroker(port, dataDir);
        log('chaos: broker back');
        res.writeHead(200).end('restarted');
      } catch (error) {
        res.writeHead(500).end(String(error));
      } finally {
        restarting = false;
      }
    })();
  });
  const controlPort = await freePort();
  await new Promise<void>((resolve) => control.listen(controlPort, '127.0.0.1', resolve));

  const logs = path.join(ROOT, '.cache', 'logs');
  mkdirSync(logs, { recursive: true });
  const offlineLog = path.join(logs, `offline-chaos-${process.pid}.log`);
  let code = 1;
  try {
    const stack = await startStack({
      mode: 'test',
      httpPort: await freePort(),
      lambdaPort: await freePort(),
      offlineOutput: offlineLog,
    });
    try {
      const started = Date.now();
      code = await new Promise<number>((resolve) => {
        const jest = spawn(
          process.execPath,
          [
            '--experimental-vm-modules',
            '--no-warnings=ExperimentalWarning',
            path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
            // Patterns first: --testMatch takes a list and would swallow them.
            ...(args.length ? args : ['test/reliability']),
            '--runInBand',
            '--testMatch',
            '**/test/reliability/**/*.{test,chaos}.ts',
          ],
          {
            cwd: ROOT,
            stdio: 'inherit',
            env: {
              POWERTOOLS_LOG_LEVEL: 'SILENT',
              ...process.env,
              ...stack.env,
              OFFLINE_LOG: offlineLog,
              CHAOS_CONTROL_URL: `http://127.0.0.1:${controlPort}`,
            },
          },
        );
        const forward = (signal: NodeJS.Signals) => jest.kill(signal);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        jest.once('exit', (exitCode) => resolve(exitCode ?? 1));
      });
      log(`chaos: tests finished in ${((Date.now() - started) / 1000).toFixed(0)} s; stopping the stack`);
    } finally {
      await stack.stop();
    }
  } finally {
    control.close();
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return code;
}

process.env.SLS_TELEMETRY_DISABLED ??= '1';
process.env.SLS_NOTIFICATIONS_MODE ??= 'off';
process.exitCode = await main(process.argv.slice(2));
