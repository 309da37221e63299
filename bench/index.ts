/**
 * `npm run bench`: the whole-system benchmark on the full local stack (real Postgres, real Kafka,
 * serverless-offline with the offline MSK triggers), brought up by startStack in test mode
 * (throwaway database and topic prefix). See docs/benchmarks.md.
 *
 * 1. reservation transaction: the app's reserve path driven directly vs pgbench on the same SQL,
 *    uniform over many products and on one hot product (bench/reserve.ts);
 * 2. end-to-end saga: open-loop POST /orders at several offered rates (bench/saga.ts);
 * 3. flash sale: 100 concurrent orders on stock 20.
 *
 * Env: BENCH_RATES (10,25,50,100,200,400), BENCH_SECONDS (15 per rate), BENCH_DRAIN_SECONDS (60),
 * BENCH_CLIENTS (8, reservation workers = pgbench clients), BENCH_RESERVE_SECONDS (10),
 * BENCH_PRODUCTS (10000, reservation uniform case), BENCH_PARTS (reserve,saga,flash),
 * BENCH_THREADS (2: pgbench -j and app driver processes), BENCH_MAX_INFLIGHT (200 unanswered POSTs),
 * BENCH_ALL_RATES=1 (keep climbing after a rate saturates the saga). `--only <parts>` (e.g.
 * `npm run bench -- --only reserve`) is BENCH_PARTS; the reservation part alone needs only Postgres,
 * so it starts neither Kafka nor serverless-offline.
 * Writes bench/results/bench.json, bench/results/bench.png and bench/results/offline.log.
 * Last line: `orders/s <n> p99_ms <n> reserve_vs_pgbench <x>`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const { default: postgres } = await import('postgres');
const { ROOT, migrateDatabase, startStack } = await import('../infra/cli/stack.ts');
const { createDatabase, dropDatabase, ensurePostgres, withDatabase } =
  await import('../infra/local/postgres.ts');
const { freePort } = await import('../infra/local/process.ts');
const { load, round, say, writeChart } = await import('./report.ts');
const { runApp, runPgbench, seedReserveProducts } = await import('./reserve.ts');
const { runFlashSale, runStep, seedOrderProducts } = await import('./saga.ts');
type ReserveRun = import('./reserve.ts').ReserveRun;
type SagaStep = import('./saga.ts').SagaStep;
type FlashSale = import('./saga.ts').FlashSale;

const list = (value: string | undefined, fallback: string) =>
  (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const RATES = list(process.env.BENCH_RATES, '10,25,50,100,200,400').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const DRAIN_MS = Number(process.env.BENCH_DRAIN_SECONDS ?? 60) * 1000;
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const RESERVE_SECONDS = Number(process.env.BENCH_RESERVE_SECONDS ?? 10);
const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 10_000);
const MAX_IN_FLIGHT = Number(process.env.BENCH_MAX_INFLIGHT ?? 200);
// Stop the ladder once a rate saturates the saga (higher rates would only pile up a backlog); BENCH_ALL_RATES=1 runs them anyway.
const ALL_RATES = process.env.BENCH_ALL_RATES === '1';
const onlyFlag = process.argv.indexOf('--only');
const PARTS = new Set(
  list(onlyFlag >= 0 ? process.argv[onlyFlag + 1] : process.env.BENCH_PARTS, 'reserve,saga,flash'),
);
const NEEDS_STACK = PARTS.has('saga') || PARTS.has('flash');
const RESULTS = path.join(ROOT, 'bench', 'results');
mkdirSync(RESULTS, { recursive: true });

const started = Date.now();
const loadAtStart = load();
say(
  `machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; load average ${loadAtStart.join(' ')} (other work on the machine makes figures noisy)`,
);

// The reservation part alone needs only a Postgres server (it creates a database of its own).
const stack = NEEDS_STACK
  ? await startStack({
      mode: 'test',
      httpPort: await freePort(),
      lambdaPort: await freePort(),
      offlineOutput: path.join(RESULTS, 'offline.log'),
    })
  : await ensurePostgres({ database: 'postgres' }).then((pg) => ({
      env: { DATABASE_URL: pg.url } as Record<string, string>,
      stop: () => pg.stop(),
    }));
const stopAll = async () => {
  await stack.stop();
};
process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));

const reserve: ReserveRun[] = [];
const saga: SagaStep[] = [];
const skippedRates: number[] = [];
let flash: FlashSale | undefined;
try {
  if (PARTS.has('reserve')) {
    // A database of its own: its outbox rows are never seen by the running relay.
    const adminUrl = withDatabase(stack.env.DATABASE_URL!, 'postgres');
    const database = `shopstream_bench_${Date.now().toString(36)}`;
    const url = withDatabase(stack.env.DATABASE_URL!, database);
    await createDatabase(adminUrl, database);
    try {
      await migrateDatabase(url);
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      await seedReserveProducts(sql, PRODUCTS);
      await sql.end();
      const options = { url, products: PRODUCTS, clients: CLIENTS, seconds: RESERVE_SECONDS };
      for (const shape of ['uniform', 'hot'] as const) {
        for (const run of [runApp, runPgbench]) {
          const result = await run(options, shape);
          reserve.push(result);
          say(
            `reserve ${result.driver} ${shape}: ${result.txPerSecond} tx/s, mean ${result.meanLatencyMs} ms, ${result.errors} errors (load ${result.load.join(' ')})`,
          );
        }
      }
    } finally {
      await dropDatabase(adminUrl, database);
    }
  }

  const sql = NEEDS_STACK ? postgres(stack.env.DATABASE_URL!, { max: 4, onnotice: () => {} }) : undefined;
  try {
    if (sql && PARTS.has('saga')) {
      const products = await seedOrderProducts(sql, 1000);
      // Warm every function container (cold bundles load on first invoke) before measuring.
      say('warming up the saga (20 orders)');
      await runStep(sql, stack.env.API_URL!, products, 10, 2, DRAIN_MS);
      for (const rate of RATES) {
        const saturated = saga.at(-1);
        if (
          !ALL_RATES &&
          saturated &&
          (saturated.unfinished > 0 ||
            saturated.httpErrors > 0.05 * saturated.sent ||
            (saturated.completedPerSecond ?? 0) < 0.8 * saturated.offered)
        ) {
          skippedRates.push(rate);
          continue;
        }
        const step = await runStep(sql, stack.env.API_URL!, products, rate, SECONDS, DRAIN_MS, MAX_IN_FLIGHT);
        saga.push(step);
        say(
          `saga ${rate}/s offered: ${step.completed}/${step.accepted} completed, ${step.completedPerSecond} completed/s, p50 ${step.p50Ms} p95 ${step.p95Ms} p99 ${step.p99Ms} ms, POST p99 ${step.postP99Ms} ms, →RESERVED p50 ${step.toReservedP50Ms} ms, RESERVED→COMPLETED p50 ${step.reservedToCompletedP50Ms} ms, ${step.httpErrors} HTTP errors ${JSON.stringify(step.httpStatuses)}, serverless-offline CPU ${step.offlineCpuMsPerOrder} ms/order, machine busy ${step.machineBusyPercent}%, ${step.unfinished} unfinished after ${step.drainSeconds} s drain (load ${step.load.join(' ')})`,
        );
      }
    }
    if (skippedRates.length)
      say(
        `saga saturated at ${saga.at(-1)?.offered}/s offered; skipped ${skippedRates.join(', ')}/s (BENCH_ALL_RATES=1 runs them anyway)`,
      );
    if (sql && PARTS.has('flash')) {
      flash = await runFlashSale(sql, stack.env.API_URL!, 100, 20, DRAIN_MS);
      say(
        `flash sale: HTTP errors ${JSON.stringify(flash.httpStatuses)}; ${flash.completed} completed, ${flash.rejected} rejected, ${flash.unfinished} unfinished of ${flash.placed} placed (${flash.orders} POSTs) on stock ${flash.stock}; all settled in ${flash.settleSeconds} s; stock on hand ${flash.finalOnHand}, reserved ${flash.finalReserved} (load ${flash.load.join(' ')})`,
      );
    }
  } finally {
    await sql?.end();
  }
} finally {
  await stopAll();
}

const ratio = (shape: 'uniform' | 'hot') => {
  const app = reserve.find((r) => r.driver === 'app' && r.shape === shape);
  const pgbench = reserve.find((r) => r.driver === 'pgbench' && r.shape === shape);
  return app && pgbench ? app.txPerSecond / pgbench.txPerSecond : Number.NaN;
};
const ratios = { uniform: round(ratio('uniform'), 2), hot: round(ratio('hot'), 2) };
const reserveVsPgbench = Math.min(...[ratios.uniform, ratios.hot].filter((r): r is number => r !== null));
const best = saga.reduce<SagaStep | undefined>(
  (a, b) => ((b.completedPerSecond ?? 0) > (a?.completedPerSecond ?? 0) ? b : a),
  undefined,
);
const at100 = [...saga].sort((a, b) => Math.abs(a.offered - 100) - Math.abs(b.offered - 100))[0];
const summary = {
  ordersPerSecond: best?.completedPerSecond ?? null,
  p99MsAt: at100?.offered ?? null,
  p99Ms: at100?.p99Ms ?? null,
  reserveVsPgbench: Number.isFinite(reserveVsPgbench) ? reserveVsPgbench : null,
  reserveRatios: ratios,
};
const figures = {
  startedAt: new Date(started).toISOString(),
  durationSeconds: round((Date.now() - started) / 1000, 1),
  machine: {
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAtStart,
    loadAtEnd: load(),
  },
  skippedRates,
  settings: {
    maxInFlight: MAX_IN_FLIGHT,
    rates: RATES,
    secondsPerRate: SECONDS,
    drainSeconds: DRAIN_MS / 1000,
    reserveClients: CLIENTS,
    reserveSeconds: RESERVE_SECONDS,
    reserveProducts: PRODUCTS,
  },
  summary,
  reserve,
  saga,
  flash: flash ?? null,
};
writeFileSync(path.join(RESULTS, 'bench.json'), `${JSON.stringify(figures, null, 2)}\n`);
if (saga.length) {
  writeChart(
    path.join(RESULTS, 'bench.png'),
    saga.map((s) => ({
      offered: s.offered,
      completedPerSecond: s.completedPerSecond,
      p50: s.p50Ms,
      p95: s.p95Ms,
      p99: s.p99Ms,
    })),
    `${new Date(started).toISOString().slice(0, 16)}Z · ${SECONDS} s per rate · ${cpus().length} cores · load average ${loadAtStart.join(' ')} at start`,
  );
}

const cell = (v: unknown) => String(v ?? '-');
const lines: string[] = [''];
if (reserve.length) {
  lines.push(
    'reservation transaction (tx/s, same SQL, same clients)',
    '  shape     app tx/s  pgbench tx/s  ratio',
  );
  for (const shape of ['uniform', 'hot'] as const) {
    const app = reserve.find((r) => r.driver === 'app' && r.shape === shape);
    const pg = reserve.find((r) => r.driver === 'pgbench' && r.shape === shape);
    lines.push(
      `  ${shape.padEnd(8)}  ${cell(app?.txPerSecond).padStart(8)}  ${cell(pg?.txPerSecond).padStart(12)}  ${cell(ratios[shape]).padStart(5)}`,
    );
  }
}
if (saga.length) {
  lines.push(
    'end-to-end saga (placement → COMPLETED)',
    '  offered/s  accepted/s  completed/s    p50 ms    p95 ms    p99 ms  unfinished  load(1m)',
  );
  for (const s of saga)
    lines.push(
      `  ${cell(s.offered).padStart(9)}  ${cell(s.acceptedPerSecond).padStart(10)}  ${cell(s.completedPerSecond).padStart(11)}  ${cell(s.p50Ms).padStart(8)}  ${cell(s.p95Ms).padStart(8)}  ${cell(s.p99Ms).padStart(8)}  ${cell(s.unfinished).padStart(10)}  ${cell(s.load[0]).padStart(8)}`,
    );
}
if (skippedRates.length)
  lines.push(`  skipped (saturated at ${saga.at(-1)?.offered}/s): ${skippedRates.join(', ')}/s`);
if (flash)
  lines.push(
    `flash sale: ${flash.completed}/${flash.orders} completed on stock ${flash.stock} (${flash.exactlyStockCompleted ? 'exactly the stock' : 'NOT the stock'}), settled in ${flash.settleSeconds} s, final on hand ${flash.finalOnHand} reserved ${flash.finalReserved}`,
  );
lines.push(
  `figures: ${path.relative(ROOT, path.join(RESULTS, 'bench.json'))}${saga.length ? `, chart: ${path.relative(ROOT, path.join(RESULTS, 'bench.png'))}` : ''}; load average at end ${figures.machine.loadAtEnd.join(' ')}`,
);
console.log(lines.join('\n'));
console.log(
  `orders/s ${summary.ordersPerSecond ?? 0} p99_ms ${summary.p99Ms ?? 0} reserve_vs_pgbench ${summary.reserveVsPgbench ?? 0}`,
);
process.exit(0);
