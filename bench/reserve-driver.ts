/**
 * A child process of bench/reserve.ts (`reserve-driver.ts run`, options in BENCH_DRIVER): runs the
 * app's reservation transaction in `clients` concurrent workers for `seconds` and prints JSON. It
 * imports only what reserveStock imports, so its start-up and memory are those of the function.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import type { Tx } from '#layers/db';

export interface DriverOptions {
  url: string;
  products: number;
  clients: number;
  seconds: number;
}

export interface DriverResult {
  seconds: number;
  latencies: number[];
  cpuMs: number;
  errors: number;
}

/** md5('bench-product-<n>')::uuid, the ids bench/reserve.ts seeds. */
const productId = (n: number) => {
  const hex = createHash('md5').update(`bench-product-${n}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/**
 * What layers/kafka/consumer.ts applyRecord does for one record, without Kafka: its own
 * transaction (postgres.js `sql.begin`, as `inTransaction` runs it) around its own
 * `claimAndApply`. bench/reserve.pgbench.sql sends the same statements.
 */
export async function applyOnce(
  sql: Sql,
  consumer: string,
  eventId: string,
  apply: (tx: Tx) => Promise<void>,
) {
  const { claimAndApply, unlessDuplicate } = await (app ??= loadApp());
  await sql.begin((tx) => claimAndApply(tx, consumer, eventId, apply)).catch(unlessDuplicate);
}

// Imported on first use, once the log level is set (see `run` below).
let app: ReturnType<typeof loadApp> | undefined;
async function loadApp() {
  return import('#layers/kafka/consumer');
}

async function drive(options: DriverOptions): Promise<DriverResult> {
  const { createDb } = await import('#layers/db');
  const { reserveStock } = await import('../functions/inventory/steps.ts');
  const sql = createDb(options.url, options.clients);
  const ids = Array.from({ length: options.products }, (_, i) => productId(i + 1));
  const latencies: number[] = [];
  let errors = 0;
  // Open every connection before the clock starts (pgbench also excludes connection time).
  await Promise.all(Array.from({ length: options.clients }, () => sql.begin((tx) => tx`select 1`)));
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const orderId = randomUUID();
      const eventId = randomUUID();
      const line = { productId: ids[Math.floor(Math.random() * ids.length)]!, quantity: 1 };
      const t0 = performance.now();
      try {
        await applyOnce(sql, 'inventory.reserveStock', eventId, (tx) =>
          reserveStock(tx, { orderId, items: [line] }),
        );
        latencies.push(Math.round((performance.now() - t0) * 1000) / 1000);
      } catch (error) {
        if (++errors === 1) process.stderr.write(`[bench] app reservation failed: ${String(error)}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, worker));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await sql.end();
  return { seconds, latencies, cpuMs: (used.user + used.system) / 1000, errors };
}

if (process.argv[2] === 'run') {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const result = await drive(JSON.parse(process.env.BENCH_DRIVER ?? '{}') as DriverOptions);
  process.stdout.write(JSON.stringify(result));
}
