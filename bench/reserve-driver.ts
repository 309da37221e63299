/**
 * A child process of bench/reserve.ts (`reserve-driver.ts run`, options in BENCH_DRIVER): runs the
 * app's reservation transaction in `clients` concurrent workers for `seconds` and prints JSON. It
 * imports only what reserveStock imports, so its start-up and memory are those of the function.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import type { Tx } from '#layers/db';
import type { Line } from '../functions/inventory/decisions.ts';

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
 * `claimAndApply` (the refused path of `reserveOnce`).
 */
export async function applyOnce(
  sql: Sql,
  consumer: string,
  eventId: string,
  apply: (tx: Tx) => Promise<void>,
) {
  const { claimAndApply, unlessDuplicate } = await loadApp();
  await sql.begin((tx) => claimAndApply(tx, consumer, eventId, apply)).catch(unlessDuplicate);
}

// The app's modules, imported on first use, once the log level and the database are set (see
// `run` below), and only once: every import() of a module runs tsx's resolve hook again.
let app:
  | Promise<typeof import('#layers/kafka/consumer') & typeof import('../functions/inventory/steps.ts')>
  | undefined;
const loadApp = () =>
  (app ??= Promise.all([import('#layers/kafka/consumer'), import('../functions/inventory/steps.ts')]).then(
    ([consumer, steps]) => ({ ...consumer, ...steps }),
  ));

/**
 * What the consumer does with an order.placed record (functions/inventory/reserveStock.ts): the
 * reservation in one statement, and only when that declines (a refusal) the transaction.
 */
export async function reserveOnce(sql: Sql, eventId: string, order: { orderId: string; items: Line[] }) {
  const { reserveStock, reserveStockAlone } = await loadApp();
  const consumer = 'inventory.reserveStock';
  const done = await reserveStockAlone({ consumer, recordKey: eventId }, order);
  if (done === 'declined') await applyOnce(sql, consumer, eventId, (tx) => reserveStock(tx, order));
}

async function drive(options: DriverOptions): Promise<DriverResult> {
  // The app's own pool (layers/db.ts db()), one connection per client.
  process.env.DATABASE_URL = options.url;
  process.env.DB_POOL_MAX = String(options.clients);
  const { db } = await import('#layers/db');
  const sql = db();
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
        await reserveOnce(sql, eventId, { orderId, items: [line] });
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
