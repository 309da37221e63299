/**
 * `npm test`: brings up a throwaway stack (fresh database and topic prefix, serverless-offline on
 * free ports), runs jest against it, takes it down, and ends with one line `N passed, N failed`.
 * Extra arguments go to jest (`npm test -- test/product`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureChromium } from '../local/chromium.ts';
import { freePort, log } from '../local/process.ts';
import { ROOT, startStack } from './stack.ts';

export async function main(args: string[]): Promise<number> {
  // Payment retries back off from PAYMENT_RETRY_BASE_MS (1 s in production); the saga tests walk
  // through five retries per card, so they run with a short base unless one is given.
  process.env.PAYMENT_RETRY_BASE_MS ??= '200';
  // Likewise the wait before a Kafka trigger retries a failed batch (1 s doubling otherwise), so a
  // poison record reaches its dead-letter topic within seconds (test/reliability).
  process.env.OFFLINE_MSK_RETRY_BASE_MS ??= '200';
  const logs = path.join(ROOT, '.cache', 'logs');
  mkdirSync(logs, { recursive: true });
  const chromium = await ensureChromium();
  const offlineLog = path.join(logs, `offline-test-${process.pid}.log`);
  const stack = await startStack({
    mode: 'test',
    httpPort: await freePort(),
    lambdaPort: await freePort(),
    offlineOutput: offlineLog,
  });
  const results = path.join(logs, `jest-${process.pid}.json`);
  let code = 1;
  try {
    code = await new Promise<number>((resolve) => {
      const jest = spawn(
        process.execPath,
        ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--json', `--outputFile=${results}`, ...args],
        { cwd: ROOT, stdio: 'inherit', env: { POWERTOOLS_LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT', ...process.env, ...stack.env, CHROMIUM_PATH: chromium, OFFLINE_LOG: offlineLog } },
      );
      const forward = (signal: NodeJS.Signals) => jest.kill(signal);
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      jest.once('exit', (exitCode) => resolve(exitCode ?? 1));
    });
  } finally {
    log('tests finished; stopping the stack');
    await stack.stop();
  }
  if (existsSync(results)) {
    const summary = JSON.parse(readFileSync(results, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number };
    rmSync(results);
    console.log(`${summary.numPassedTests} passed, ${summary.numFailedTests} failed${summary.numPendingTests ? `, ${summary.numPendingTests} skipped` : ''}`);
  }
  return code;
}
