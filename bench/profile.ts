/**
 * `npm run bench:profile`: where the CPU time of an order goes.
 *
 * Starts the whole local stack (test mode) with V8's CPU profiler on serverless-offline — its main
 * thread (gateway, offline MSK triggers) and the worker thread of every function instance — sends
 * BENCH_PROFILE_ORDERS orders (default 300) at BENCH_PROFILE_RATE per second (default 20), waits
 * until they are terminal, stops the stack and prints:
 * - CPU per order of serverless-offline (all threads, profiler overhead included);
 * - the top ten costs by self time, each function with the package or source file it comes from
 *   (esbuild writes a `// <path>` line before each module it bundles; the profile's line numbers
 *   are matched against those);
 * - the top ten packages / source files.
 * Profiles stay in .cache/profile/<time>/ (open them in Chrome DevTools or speedscope).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const { default: postgres } = await import('postgres');
const { ROOT, startStack } = await import('../infra/cli/stack.ts');
const { freePort } = await import('../infra/local/process.ts');
const { load, say } = await import('./report.ts');
const { runStep, seedOrderProducts } = await import('./saga.ts');

const ORDERS = Number(process.env.BENCH_PROFILE_ORDERS ?? 300);
const RATE = Number(process.env.BENCH_PROFILE_RATE ?? 20);
const dir = path.join(ROOT, '.cache', 'profile', new Date().toISOString().replaceAll(':', '-').slice(0, 19));
mkdirSync(dir, { recursive: true });

say(
  `profiling ${ORDERS} orders at ${RATE}/s; load average ${load().join(' ')}; profiles in ${path.relative(ROOT, dir)}`,
);
const stack = await startStack({
  mode: 'test',
  httpPort: await freePort(),
  lambdaPort: await freePort(),
  offlineOutput: path.join(dir, 'offline.log'),
  offlineNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
});

let completed = 0;
try {
  const sql = postgres(stack.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
  try {
    const products = await seedOrderProducts(sql, 100);
    const step = await runStep(sql, stack.env.API_URL!, products, RATE, ORDERS / RATE, 120_000);
    completed = step.completed;
    say(
      `${step.completed}/${step.sent} completed, p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms (load ${step.load.join(' ')})`,
    );
  } finally {
    await sql.end();
  }
} finally {
  await stack.stop();
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const markers = new Map<string, { line: number; module: string }[]>();
function moduleOf(url: string, line: number): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/').slice(0, 2).join('/')}`;
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const inPackage = (p: string) => {
    const parts = p.split('node_modules/').at(-1)!.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  };
  if (!file.includes('.esbuild'))
    return file.includes('node_modules/') ? inPackage(file) : path.relative(ROOT, file);
  if (!markers.has(file)) {
    const list: { line: number; module: string }[] = [];
    try {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((text, index) => {
          const match = /^\/\/ (\S+\.(?:[cm]?[jt]s|json|sql))$/.exec(text);
          if (match) list.push({ line: index, module: match[1]! });
        });
    } catch {
      // the bundle is gone (a later build replaced it)
    }
    markers.set(file, list);
  }
  const list = markers.get(file)!;
  let found = '(bundle)';
  for (const marker of list) {
    if (marker.line > line) break;
    found = marker.module;
  }
  return found.includes('node_modules/') ? inPackage(found) : found;
}

const byFunction = new Map<string, number>();
const byModule = new Map<string, number>();
let busyMs = 0;
let files = 0;
for (const name of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  files++;
  const profile = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, index) =>
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000),
  );
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(root)') continue;
    busyMs += ms;
    const module = functionName.startsWith('(') ? functionName : moduleOf(url, lineNumber);
    const key = `${functionName || '(anonymous)'}  ${module}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
    byModule.set(module, (byModule.get(module) ?? 0) + ms);
  }
}

const top = (map: Map<string, number>) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(
      ([key, ms], i) =>
        `  ${String(i + 1).padStart(2)}. ${(((ms / busyMs) * 100).toFixed(1) + '%').padStart(6)}  ${(ms / Math.max(1, completed)).toFixed(2).padStart(6)} ms/order  ${key}`,
    );
console.log(
  [
    '',
    `serverless-offline CPU (${files} threads profiled): ${(busyMs / Math.max(1, completed)).toFixed(1)} ms per completed order (${completed} orders, profiler overhead included)`,
    'top ten functions by self time (share of busy time, ms per order, function, module):',
    ...top(byFunction),
    'top ten modules by self time:',
    ...top(byModule),
  ].join('\n'),
);
process.exit(0);
