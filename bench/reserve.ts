/**
 * Part 1: the reservation. The app's own code path — what the Kafka consumer does with an
 * order.placed record: `reserveStockAlone` (functions/inventory/steps.ts), one statement that also
 * writes the processed-record claim and the outbox row, on the app's pool (`db()`) — driven directly
 * by C concurrent workers for a fixed time, against pgbench running the same statements
 * (bench/reserve.pgbench.sql) with the same client count, in a dedicated database created for the
 * run and dropped afterwards. Two shapes: uniform over many products, and one hot product.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Sql } from 'postgres';
import type { DriverResult } from './reserve-driver.ts';
import { load, percentile, progress, endProgress, round } from './report.ts';

export interface ReserveRun {
  driver: 'app' | 'pgbench';
  shape: 'uniform' | 'hot';
  products: number;
  clients: number;
  seconds: number;
  transactions: number;
  txPerSecond: number;
  meanLatencyMs: number | null;
  p99LatencyMs?: number | null;
  /** CPU time of the client (driver processes or pgbench) per transaction. */
  clientCpuMsPerTx?: number | null;
  errors: number;
  load: [number, number, number];
}

export interface ReserveOptions {
  url: string;
  products: number;
  clients: number;
  seconds: number;
}

export async function seedReserveProducts(sql: Sql, products: number): Promise<void> {
  await sql`
    insert into product.products (id, sku, name, price, currency)
    select md5('bench-product-' || n)::uuid, 'BENCH-' || n, 'bench product ' || n, 1000, 'USD' from generate_series(1, ${products}::int) n`;
  await sql`insert into inventory.stock (product_id, on_hand) select md5('bench-product-' || n)::uuid, 1000000000 from generate_series(1, ${products}::int) n`;
  await sql`vacuum analyze`;
}

/**
 * The app's reservation, as layers/kafka/consumer.ts applies an order.placed record, driven by
 * `clients` workers spread over as many processes as pgbench gets threads (-j), each process on
 * the app's own pool (db()).
 */
export async function runApp(options: ReserveOptions, shape: 'uniform' | 'hot'): Promise<ReserveRun> {
  const products = shape === 'hot' ? 1 : options.products;
  const processes = threadsFor(options.clients);
  const started = performance.now();
  const ticker = setInterval(
    () => progress(`reserve app ${shape}`, performance.now() - started, options.seconds * 1000 + 1500),
    250,
  );
  const parts = await Promise.all(
    Array.from({ length: processes }, (_, i) => {
      const clients = Math.floor(options.clients / processes) + (i < options.clients % processes ? 1 : 0);
      return new Promise<DriverResult>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', path.join(import.meta.dirname, 'reserve-driver.ts'), 'run'],
          {
            cwd: path.resolve(import.meta.dirname, '..'),
            env: {
              ...process.env,
              BENCH_DRIVER: JSON.stringify({ url: options.url, products, clients, seconds: options.seconds }),
            },
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.once('error', reject);
        child.once('exit', (code) =>
          code === 0
            ? resolve(JSON.parse(out) as DriverResult)
            : reject(new Error(`reserve driver exited ${code}: ${out}`)),
        );
      });
    }),
  ).finally(() => {
    clearInterval(ticker);
    endProgress();
  });
  const latencies = parts.flatMap((p) => p.latencies);
  const elapsed = Math.max(...parts.map((p) => p.seconds));
  const cpuMs = parts.reduce((sum, p) => sum + p.cpuMs, 0);
  return {
    driver: 'app',
    shape,
    products,
    clients: options.clients,
    seconds: round(elapsed, 2)!,
    transactions: latencies.length,
    txPerSecond: round(latencies.length / elapsed, 1)!,
    meanLatencyMs: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length), 2),
    p99LatencyMs: round(percentile(latencies, 99), 2),
    clientCpuMsPerTx: round(cpuMs / Math.max(1, latencies.length), 3),
    errors: parts.reduce((sum, p) => sum + p.errors, 0),
    load: load(),
  };
}

const threadsFor = (clients: number) =>
  Math.max(1, Math.min(clients, Number(process.env.BENCH_THREADS ?? 2)));

export function pgbenchPath(): string {
  for (const candidate of [
    process.env.PGBENCH,
    '/usr/bin/pgbench',
    ...['17', '16', '15', '14'].map((v) => `/usr/lib/postgresql/${v}/bin/pgbench`),
  ]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return 'pgbench';
}

/** pgbench on the same statements, same clients, same duration; prepared statements like postgres.js. */
export async function runPgbench(options: ReserveOptions, shape: 'uniform' | 'hot'): Promise<ReserveRun> {
  const products = shape === 'hot' ? 1 : options.products;
  const script = path.join(import.meta.dirname, 'reserve.pgbench.sql');
  const args = [
    '-n',
    '-M',
    'prepared',
    '-c',
    String(options.clients),
    '-j',
    String(threadsFor(options.clients)),
    '-T',
    String(options.seconds),
    '-D',
    `nproducts=${products}`,
    '-f',
    script,
    options.url,
  ];
  const started = performance.now();
  const ticker = setInterval(
    () => progress(`reserve pgbench ${shape}`, performance.now() - started, options.seconds * 1000),
    250,
  );
  const output = await new Promise<string>((resolve, reject) => {
    // Through bash so that `times` reports pgbench's CPU time (user and system) for the comparison.
    const child = spawn('bash', ['-c', '"$0" "$@"; code=$?; times; exit $code', pgbenchPath(), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`pgbench exited ${code}:\n${text.slice(-2000)}`)),
    );
  }).finally(() => {
    clearInterval(ticker);
    endProgress();
  });
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
  const count = /number of transactions actually processed: (\d+)/.exec(output);
  const latency = /latency average = ([\d.]+) ms/.exec(output);
  const failed = /number of failed transactions: (\d+)/.exec(output);
  if (!tps || !count) throw new Error(`cannot read pgbench output:\n${output}`);
  const times = [...output.matchAll(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/g)].at(-1);
  const cpuMs = times
    ? (Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4])) * 1000
    : Number.NaN;
  return {
    driver: 'pgbench',
    shape,
    products,
    clients: options.clients,
    seconds: options.seconds,
    transactions: Number(count[1]),
    txPerSecond: round(Number(tps[1]), 1)!,
    meanLatencyMs: latency ? Number(latency[1]) : null,
    clientCpuMsPerTx: round(cpuMs / Math.max(1, Number(count[1])), 3),
    errors: failed ? Number(failed[1]) : 0,
    load: load(),
  };
}
