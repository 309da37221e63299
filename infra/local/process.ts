/**
 * Small process and network helpers shared by the local provisioning scripts: probing a port,
 * waiting with progress, and child processes that cannot outlive the script that started them.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import net from 'node:net';

/** True when something accepts TCP connections on host:port within timeoutMs. */
export function isPortOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Asks the OS for a free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Prints `label…` and a dot per second until `check` passes or `timeoutMs` runs out. */
export async function waitFor(
  label: string,
  check: () => Promise<boolean>,
  { timeoutMs = 60_000, intervalMs = 250, onTimeout }: { timeoutMs?: number; intervalMs?: number; onTimeout?: () => string } = {},
): Promise<void> {
  const started = Date.now();
  let lastDot = started;
  process.stderr.write(`${label}`);
  while (!(await check().catch(() => false))) {
    if (Date.now() - started > timeoutMs) {
      process.stderr.write(' timed out\n');
      throw new Error(`${label} did not become ready in ${timeoutMs / 1000}s. ${onTimeout?.() ?? ''}`.trim());
    }
    if (Date.now() - lastDot >= 1000) {
      process.stderr.write('.');
      lastDot = Date.now();
    }
    await sleep(intervalMs);
  }
  process.stderr.write(` ready (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
}

export function log(message: string): void {
  process.stderr.write(`[shopstream] ${message}\n`);
}

/**
 * Spawns a long-running child that dies with us: the command runs under `sh`, which kills it
 * as soon as our end of its stdin closes. That happens on a clean exit, Ctrl-C and also on
 * SIGKILL of this process, so no broker or database is left behind.
 */
export function spawnTethered(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const quoted = [command, ...args].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ');
  const script = `${quoted} & child=$!; trap 'kill $child 2>/dev/null' TERM INT; cat >/dev/null; kill $child 2>/dev/null; wait $child`;
  return spawn('sh', ['-c', script], { ...options, stdio: ['pipe', options.stdio === 'inherit' ? 'inherit' : 'pipe', 'pipe'] });
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. Resolves once the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}

/** Runs a command to completion, streaming selected output lines through `onLine`. */
export function run(
  command: string,
  args: string[],
  { cwd, env, onLine }: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (onLine) for (const line of text.split('\n')) if (line.trim()) onLine(line);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}
