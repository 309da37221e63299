/**
 * `npm run bench`: the whole-system benchmark on the full local stack (real Postgres, real Kafka,
 * serverless-offline with the offline MSK triggers), brought up by startStack in test mode
 * (throwaway database and topic prefix). See docs/benchmarks.md.
 *
 * 1. runtime modes side by side: the same cold flash sale (100 orders sent at once on stock 20)
 *    on a fresh stack per mode — bounded worker instances (infra/offline-concurrency.cjs, the
 *    default), serverless-offline's own unbounded workers, serverless-offline's in-process mode —
 *    with settle time, CPU per order, peak RSS, threads and PostgreSQL connections;
 * 2. flash sale on the default stack, cold: 100 orders at once on stock 20;
 * 3. burst: 1,000 orders at once on stock 100 (only 202, or 503 + Retry-After; every answer true);
 * 4. reservation transaction: the app's reserve path driven directly vs pgbench on the same SQL,
 *    uniform over many products and on one hot product (bench/reserve.ts);
 * 5. end-to-end saga: open-loop POST /orders at several offered rates (bench/saga.ts).
 *
 * Env: BENCH_PARTS (modes,flash,burst,reserve,saga), BENCH_MODES (bounded,on-demand,unbounded,in-process),
 * BENCH_RATES (25,50,75,100,150,200,300), BENCH_SECONDS (15 per rate), BENCH_DRAIN_SECONDS (60),
 * BENCH_CLIENTS (8, reservation workers = pgbench clients), BENCH_RESERVE_SECONDS (10),
 * BENCH_PRODUCTS (10000, reservation uniform case), BENCH_THREADS (2: pgbench -j and app driver
 * processes), BENCH_MAX_INFLIGHT (2000 unanswered POSTs), BENCH_BURST (1000),
 * BENCH_ALL_RATES=1 (keep climbing after a rate saturates the saga). `--only <parts>` (e.g.
 * `npm run bench -- --only reserve`) is BENCH_PARTS; the reservation part alone starts neither
 * Kafka nor serverless-offline.
 * Writes bench/results/bench.json, bench/results/bench.png and bench/results/offline-*.log.
 * Last line: `orders/s <n> p99_ms <n> reserve_vs_pgbench <x> flash_s <n> burst_5xx <n>`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const { default: postgres } = await import('postgres');
const { ROOT, migrateDatabase, startStack } = await import('../infra/cli/stack.ts');
const { createDatabase, dropDatabase, ensurePostgres, withDatabase } =
  await import('../infra/local/postgres.ts');
const { freePort } = await import('../infra/local/process.ts');
const { descendantCpuMs, load, round, samplePeaks, say, writeChart } = await import('./report.ts');
const { runApp, runPgbench, seedReserveProducts } = await import('./reserve.ts');
const { runBurst, runFlashSale, runStep, seedOrderProducts } = await import('./saga.ts');
type ReserveRun = import('./reserve.ts').ReserveRun;
type SagaStep = import('./saga.ts').SagaStep;
type FlashSale = import('./saga.ts').FlashSale;
type Burst = import('./saga.ts').Burst;
type Peaks = import('./report.ts').Peaks;

const list = (value: string | undefined, fallback: string) =>
  (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const RATES = list(process.env.BENCH_RATES, '25,50,75,100,150,200,300').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const DRAIN_MS = Number(process.env.BENCH_DRAIN_SECONDS ?? 60) * 1000;
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const RESERVE_SECONDS = Number(process.env.BENCH_RESERVE_SECONDS ?? 10);
const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 10_000);
const MAX_IN_FLIGHT = Number(process.env.BENCH_MAX_INFLIGHT ?? 2000);
const BURST = Number(process.env.BENCH_BURST ?? 1000);
// Stop the ladder once a rate saturates the saga (higher rates would only pile up a backlog); BENCH_ALL_RATES=1 runs them anyway.
const ALL_RATES = process.env.BENCH_ALL_RATES === '1';
const onlyFlag = process.argv.indexOf('--only');
const PARTS = new Set(
  list(
    onlyFlag >= 0 ? process.argv[onlyFlag + 1] : process.env.BENCH_PARTS,
    'modes,flash,burst,reserve,saga',
  ),
);
// The reservation part alone needs only a PostgreSQL server (it creates a database of its own).
const NEEDS_STACK = ['modes', 'flash', 'burst', 'saga'].some((part) => PARTS.has(part));
const RESULTS = path.join(ROOT, 'bench', 'results');
mkdirSync(RESULTS, { recursive: true });

/** How serverless-offline runs the functions; `bounded` is what npm start and npm test use. */
const MODES = {
  bounded: {
    label: 'worker instances, bounded, provisioned concurrency initialised (infra/offline-concurrency.cjs)',
    env: {},
  },
  'on-demand': {
    label: 'worker instances, bounded, every instance started on demand (OFFLINE_PROVISIONED=off)',
    env: { OFFLINE_PROVISIONED: 'off' },
  },
  unbounded: {
    label: "serverless-offline's own workers (one per concurrent call)",
    env: { OFFLINE_CONCURRENCY: 'off' },
  },
  'in-process': {
    label: "serverless-offline's in-process mode",
    env: { OFFLINE_CONCURRENCY: 'off', OFFLINE_IN_PROCESS: 'true' },
  },
} as const;
type Mode = keyof typeof MODES;
const modes = list(process.env.BENCH_MODES, 'bounded,on-demand,unbounded,in-process').filter(
  (m): m is Mode => m in MODES,
);

interface ModeRun {
  mode: Mode;
  label: string;
  flash: FlashSale;
  /** Seconds from starting serverless-offline until it answered GET /health (bundling included). */
  readySeconds: number;
  /** The runtime's provisioning line ("16 of 16 instances of 7 functions initialised in 6.0 s"), if any. */
  provisioned: string | null;
  /** serverless-offline CPU (all threads) per order of the flash sale, start-up excluded. */
  cpuMsPerOrder: number | null;
  peaks: Peaks;
}

const started = Date.now();
const loadAtStart = load();
say(
  `machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; load average ${loadAtStart.join(' ')} (other work on the machine makes figures noisy)`,
);

interface ModeStack {
  env: Record<string, string>;
  stop: () => Promise<void>;
  readySeconds: number;
  provisioned: string | null;
}

/** A fresh stack in `mode`, with how long serverless-offline took to be ready (it listens once provisioned). */
async function startMode(mode: Mode): Promise<ModeStack> {
  const offlineOutput = path.join(RESULTS, `offline-${mode}.log`);
  const t0 = Date.now();
  const stack = await startStack({
    mode: 'test',
    httpPort: await freePort(),
    lambdaPort: await freePort(),
    offlineOutput,
    offlineEnv: MODES[mode].env,
  });
  const provisioned =
    /provisioned concurrency: (.*)/.exec(readFileSync(offlineOutput, 'utf8'))?.[1]?.trim() ?? null;
  // startStack brings Postgres and Kafka up first; count from its start (what `npm start` waits for).
  return { ...stack, readySeconds: round((Date.now() - t0) / 1000, 1)!, provisioned };
}
const databaseOf = (url: string) => new URL(url).pathname.slice(1);
const offlineCpu = () => descendantCpuMs(process.pid, 'serverless.js');

/** A cold flash sale on a stack that has served nothing yet, with the peaks it causes. */
async function coldFlashSale(stack: ModeStack, mode: Mode): Promise<ModeRun> {
  const sql = postgres(stack.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
  try {
    const peaks = samplePeaks(sql, databaseOf(stack.env.DATABASE_URL!));
    const cpu0 = offlineCpu();
    const flash = await runFlashSale(sql, stack.env.API_URL!, 100, 20, DRAIN_MS);
    const cpu1 = offlineCpu();
    const run = {
      mode,
      label: MODES[mode].label,
      flash,
      readySeconds: stack.readySeconds,
      provisioned: stack.provisioned,
      cpuMsPerOrder: round((cpu1 - cpu0) / Math.max(1, flash.placed), 1),
      peaks: await peaks.stop(),
    };
    say(
      `${mode}: stack ready in ${stack.readySeconds} s (${stack.provisioned ?? 'no provisioned instances'}); flash sale ${JSON.stringify(flash.httpStatuses)} non-202 answers; ${flash.completed} completed, ${flash.rejected} rejected, ${flash.unfinished} unfinished of ${flash.placed}; settled in ${flash.settleSeconds} s (stages, s after the first POST: ${Object.entries(
        flash.stages,
      )
        .map(([status, t]) => `${status} ${t.first}–${t.last}`)
        .join(
          ', ',
        )}); ${run.cpuMsPerOrder} ms CPU/order; peak RSS ${run.peaks.rssMb} MB, ${run.peaks.threads} threads, ${run.peaks.connections} connections (load ${flash.load.join(' ')})`,
    );
    return run;
  } finally {
    await sql.end();
  }
}

const modeRuns: ModeRun[] = [];
const reserve: ReserveRun[] = [];
const saga: SagaStep[] = [];
const skippedRates: number[] = [];
let flash: ModeRun | undefined;
let burst: (Burst & { peaks: Peaks }) | undefined;
let sagaPeaks: Peaks | undefined;

// 1. the other runtime modes, each on a stack of its own, before the default stack starts.
if (PARTS.has('modes')) {
  for (const mode of modes.filter((m) => m !== 'bounded')) {
    say(`runtime mode ${mode}: ${MODES[mode].label}`);
    const other = await startMode(mode);
    try {
      modeRuns.push(await coldFlashSale(other, mode));
    } finally {
      await other.stop();
    }
  }
}

const stack: ModeStack = NEEDS_STACK
  ? await startMode('bounded')
  : await ensurePostgres({ database: 'postgres' }).then((pg) => ({
      env: { DATABASE_URL: pg.url } as Record<string, string>,
      stop: () => pg.stop(),
      readySeconds: 0,
      provisioned: null,
    }));
process.once('SIGINT', () => void stack.stop().finally(() => process.exit(130)));
try {
  const sql = postgres(stack.env.DATABASE_URL!, { max: 4, onnotice: () => {} });
  const database = databaseOf(stack.env.DATABASE_URL!);
  try {
    // 2. the flash sale on the default runtime, cold (the first thing the stack serves).
    if (PARTS.has('flash') || (PARTS.has('modes') && modes.includes('bounded'))) {
      const run = await coldFlashSale(stack, 'bounded');
      flash = run;
      if (PARTS.has('modes')) modeRuns.unshift(run);
    }
    // 3. the burst.
    if (PARTS.has('burst')) {
      const peaks = samplePeaks(sql, database);
      const result = await runBurst(sql, stack.env.API_URL!, BURST, 100, DRAIN_MS * 2);
      burst = { ...result, peaks: await peaks.stop() };
      say(
        `burst: ${BURST} POSTs at once on stock ${result.stock}: ${result.accepted} × 202, ${result.shed} × 503 + Retry-After, other ${JSON.stringify(result.otherAnswers)}; written but not accepted ${result.writtenButNotAccepted}, accepted but missing ${result.acceptedButMissing}; ${result.completed} completed, settled in ${result.settleSeconds} s (${result.exact ? 'exact' : 'NOT exact'}); POST p99 ${result.postP99Ms} ms; peak RSS ${burst.peaks.rssMb} MB, ${burst.peaks.threads} threads, ${burst.peaks.connections} connections (load ${result.load.join(' ')})`,
      );
    }
    // 4. the reservation transaction, in a database of its own (its outbox rows never reach the relay).
    if (PARTS.has('reserve')) {
      const adminUrl = withDatabase(stack.env.DATABASE_URL!, 'postgres');
      const benchDatabase = `shopstream_bench_${Date.now().toString(36)}`;
      const url = withDatabase(stack.env.DATABASE_URL!, benchDatabase);
      await createDatabase(adminUrl, benchDatabase);
      try {
        await migrateDatabase(url);
        const seed = postgres(url, { max: 1, onnotice: () => {} });
        await seedReserveProducts(seed, PRODUCTS);
        await seed.end();
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
        await dropDatabase(adminUrl, benchDatabase);
      }
    }
    // 5. the saga ladder.
    if (PARTS.has('saga')) {
      const products = await seedOrderProducts(sql, 1000);
      say('warming up the saga (20 orders)');
      await runStep(sql, stack.env.API_URL!, products, 10, 2, DRAIN_MS);
      const peaks = samplePeaks(sql, database);
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
      sagaPeaks = await peaks.stop();
      if (skippedRates.length)
        say(
          `saga saturated at ${saga.at(-1)?.offered}/s offered; skipped ${skippedRates.join(', ')}/s (BENCH_ALL_RATES=1 runs them anyway)`,
        );
    }
  } finally {
    await sql.end();
  }
} finally {
  await stack.stop();
}

const ratio = (shape: 'uniform' | 'hot') => {
  const app = reserve.find((r) => r.driver === 'app' && r.shape === shape);
  const pgbench = reserve.find((r) => r.driver === 'pgbench' && r.shape === shape);
  return app && pgbench ? app.txPerSecond / pgbench.txPerSecond : Number.NaN;
};
const ratios = { uniform: round(ratio('uniform'), 2), hot: round(ratio('hot'), 2) };
const reserveVsPgbench = Math.min(...[ratios.uniform, ratios.hot].filter((r): r is number => r !== null));
// Sustained throughput: the best completion rate of a step that kept up (nothing unfinished, ≥ 80 % of offered).
const sustained = saga.filter((s) => s.unfinished === 0 && (s.completedPerSecond ?? 0) >= 0.8 * s.offered);
const best = (sustained.length ? sustained : saga).reduce<SagaStep | undefined>(
  (a, b) => ((b.completedPerSecond ?? 0) > (a?.completedPerSecond ?? 0) ? b : a),
  undefined,
);
const at50 = [...saga].sort((a, b) => Math.abs(a.offered - 50) - Math.abs(b.offered - 50))[0];
const badBurstAnswers = burst
  ? Object.entries(burst.otherAnswers)
      .filter(([status]) => Number(status) >= 500 || Number(status) === 0)
      .reduce((n, [, c]) => n + c, 0)
  : null;
const summary = {
  ordersPerSecond: best?.completedPerSecond ?? null,
  p99MsAt: at50?.offered ?? null,
  p99Ms: at50?.p99Ms ?? null,
  reserveVsPgbench: Number.isFinite(reserveVsPgbench) ? reserveVsPgbench : null,
  reserveRatios: ratios,
  flashSeconds: flash?.flash.settleSeconds ?? null,
  burst5xx: badBurstAnswers,
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
    burst: BURST,
  },
  summary,
  modes: modeRuns,
  flash: flash?.flash ?? null,
  flashStack: flash ? { readySeconds: flash.readySeconds, provisioned: flash.provisioned } : null,
  burst: burst ?? null,
  reserve,
  saga,
  sagaPeaks: sagaPeaks ?? null,
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
if (modeRuns.length) {
  const base = modeRuns.find((m) => m.mode === 'unbounded');
  lines.push(
    'runtime modes: cold flash sale, 100 orders at once on stock 20 (ratio: to serverless-offline’s own workers, same run)',
    '  mode         ready s  non-202  completed  settle s  CPU ms/order  peak RSS MB  threads  PG conns  settle ratio  CPU ratio',
  );
  for (const m of modeRuns) {
    const non202 = Object.values(m.flash.httpStatuses).reduce((a, b) => a + b, 0);
    const settleRatio =
      base?.flash.settleSeconds && m.flash.settleSeconds
        ? round(m.flash.settleSeconds / base.flash.settleSeconds, 2)
        : null;
    const cpuRatio =
      base?.cpuMsPerOrder && m.cpuMsPerOrder ? round(m.cpuMsPerOrder / base.cpuMsPerOrder, 2) : null;
    lines.push(
      `  ${m.mode.padEnd(11)}  ${cell(m.readySeconds).padStart(7)}  ${cell(non202).padStart(7)}  ${cell(m.flash.completed).padStart(9)}  ${cell(m.flash.settleSeconds).padStart(8)}  ${cell(m.cpuMsPerOrder).padStart(12)}  ${cell(m.peaks.rssMb).padStart(11)}  ${cell(m.peaks.threads).padStart(7)}  ${cell(m.peaks.connections).padStart(8)}  ${cell(settleRatio).padStart(12)}  ${cell(cpuRatio).padStart(9)}`,
    );
  }
}
if (flash) {
  const f = flash.flash;
  lines.push(
    `flash sale (default runtime, the first thing the stack serves; ${flash.provisioned ? `provisioned instances initialised: ${flash.provisioned}` : 'no provisioned instances'}; stack ready in ${flash.readySeconds} s): ${f.completed}/${f.orders} completed on stock ${f.stock} (${f.exactlyStockCompleted ? 'exactly the stock' : 'NOT the stock'}), non-202 answers ${JSON.stringify(f.httpStatuses)}, settled in ${f.settleSeconds} s, ${flash.cpuMsPerOrder} ms CPU/order, final on hand ${f.finalOnHand} reserved ${f.finalReserved}`,
  );
}
if (burst)
  lines.push(
    `burst: ${burst.orders} at once on stock ${burst.stock}: ${burst.accepted} × 202, ${burst.shed} × 503 + Retry-After, other answers ${JSON.stringify(burst.otherAnswers)}, untrue answers ${burst.writtenButNotAccepted + burst.acceptedButMissing}, ${burst.completed} completed (${burst.exact ? 'exact' : 'NOT exact'}), settled in ${burst.settleSeconds} s; peak RSS ${burst.peaks.rssMb} MB, ${burst.peaks.threads} threads, ${burst.peaks.connections} PG connections`,
  );
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
    '  offered/s  accepted/s  completed/s    p50 ms    p95 ms    p99 ms  CPU ms/order  PG ms  Kafka ms  client ms  unfinished  load(1m)',
  );
  for (const s of saga)
    lines.push(
      `  ${cell(s.offered).padStart(9)}  ${cell(s.acceptedPerSecond).padStart(10)}  ${cell(s.completedPerSecond).padStart(11)}  ${cell(s.p50Ms).padStart(8)}  ${cell(s.p95Ms).padStart(8)}  ${cell(s.p99Ms).padStart(8)}  ${cell(s.offlineCpuMsPerOrder).padStart(12)}  ${cell(s.postgresCpuMsPerOrder).padStart(5)}  ${cell(s.kafkaCpuMsPerOrder).padStart(8)}  ${cell(s.clientCpuMsPerOrder).padStart(9)}  ${cell(s.unfinished).padStart(10)}  ${cell(s.load[0]).padStart(8)}`,
    );
  if (skippedRates.length)
    lines.push(`  skipped (saturated at ${saga.at(-1)?.offered}/s): ${skippedRates.join(', ')}/s`);
  if (sagaPeaks)
    lines.push(
      `  peaks during the ladder: RSS ${sagaPeaks.rssMb} MB, ${sagaPeaks.threads} threads, ${sagaPeaks.connections} PG connections`,
    );
}
lines.push(
  `figures: ${path.relative(ROOT, path.join(RESULTS, 'bench.json'))}${saga.length ? `, chart: ${path.relative(ROOT, path.join(RESULTS, 'bench.png'))}` : ''}; load average at end ${figures.machine.loadAtEnd.join(' ')}`,
);
console.log(lines.join('\n'));
console.log(
  `orders/s ${summary.ordersPerSecond ?? 0} p99_ms ${summary.p99Ms ?? 0} reserve_vs_pgbench ${summary.reserveVsPgbench ?? 0} flash_s ${summary.flashSeconds ?? 0} burst_5xx ${summary.burst5xx ?? 0}`,
);
process.exit(0);
