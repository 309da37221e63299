/**
 * `npm test`: brings up a throwaway stack (fresh database and topic prefix, serverless-offline on
 * free ports), runs jest against it, and takes it down. Extra arguments go to jest
 * (`npm test -- test/product`).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort, log } from '../local/process.ts';
import { ROOT, startStack } from './stack.ts';

export async function main(args: string[]): Promise<number> {
  const stack = await startStack({
    mode: 'test',
    httpPort: await freePort(),
    lambdaPort: await freePort(),
    offlineOutput: path.join(ROOT, '.cache', 'logs', `offline-test-${process.pid}.log`),
  });
  let code = 1;
  try {
    code = await new Promise<number>((resolve) => {
      const jest = spawn(process.execPath, ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), ...args], {
        cwd: ROOT,
        stdio: 'inherit',
        env: { ...process.env, ...stack.env },
      });
      const forward = (signal: NodeJS.Signals) => jest.kill(signal);
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      jest.once('exit', (exitCode) => resolve(exitCode ?? 1));
    });
  } finally {
    log('tests finished; stopping the stack');
    await stack.stop();
  }
  return code;
}
