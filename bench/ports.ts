/**
 * What an unclosed reply channel costs a worker-thread instance (`npm run bench:ports`).
 *
 * serverless-offline 13 answers every invocation of a worker-thread instance on a new
 * MessageChannel and closes neither end; infra/offline-instance-worker.mjs closes it once it has
 * answered. This runs N invocations of an empty handler through one worker both ways, as
 * serverless-offline's WorkerThreadRunner does, and prints wall time, CPU and RSS of each.
 *
 * Env: BENCH_PORTS_INVOCATIONS (30000).
 */
import { MessageChannel, Worker } from 'node:worker_threads';

const INVOCATIONS = Number(process.env.BENCH_PORTS_INVOCATIONS ?? 30_000);

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
parentPort.on('message', ({ event, port }) => {
  port.postMessage({ answered: event.n });
  if (workerData.close) port.close();
});`;

async function invokeMany(close: boolean) {
  const worker = new Worker(workerSource, { eval: true, workerData: { close } });
  const invoke = (n: number) =>
    new Promise((resolve, reject) => {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', resolve).on('error', reject);
      worker.postMessage({ event: { n }, port: port2 }, [port2]);
    });
  const started = Date.now();
  const cpu = process.cpuUsage();
  for (let n = 1; n <= INVOCATIONS; n++) {
    await invoke(n);
    if (n % 10_000 === 0)
      process.stdout.write(`[bench:ports] ${close ? 'closed' : 'left open'}: ${n}/${INVOCATIONS}\n`);
  }
  const used = process.cpuUsage(cpu);
  const figures = {
    wallMs: Date.now() - started,
    cpuMs: Math.round((used.user + used.system) / 1000),
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
  await worker.terminate();
  return figures;
}

// Closed first: the channels left open stay alive (and in RSS) until the process exits.
const closed = await invokeMany(true);
const open = await invokeMany(false);
console.log(`\n${INVOCATIONS} invocations of one worker-thread instance`);
console.log('reply channel   wall ms   CPU ms   RSS MB (process)');
for (const [label, f] of [
  ['closed', closed],
  ['left open', open],
] as const) {
  console.log(
    `${label.padEnd(14)} ${String(f.wallMs).padStart(8)} ${String(f.cpuMs).padStart(8)} ${String(f.rssMb).padStart(8)}`,
  );
}
console.log(
  `left open ÷ closed: wall ${(open.wallMs / closed.wallMs).toFixed(1)}×, CPU ${(open.cpuMs / closed.cpuMs).toFixed(1)}×`,
);
process.exit(0);
