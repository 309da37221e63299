/**
 * The benchmark's output helpers: a progress bar on stderr, percentiles, the load average, and the
 * PNG chart (Chart.js drawn on a skia canvas from @napi-rs/canvas).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables, type Plugin } from 'chart.js';
import type { Sql } from 'postgres';

export const say = (line: string) => {
  clearBar();
  process.stderr.write(`[bench] ${line}\n`);
};

export const load = (): [number, number, number] =>
  loadavg().map((n) => Math.round(n * 100) / 100) as [number, number, number];

let barShown = false;
let lastPlainPercent = -1;
const tty = process.stderr.isTTY;

function clearBar() {
  if (barShown && tty) process.stderr.write('\r\x1b[2K');
  barShown = false;
}

/** One progress line, rewritten in place on a terminal (every 10 % on a plain stream). */
export function progress(label: string, done: number, total: number, detail = ''): void {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const percent = Math.floor(fraction * 100);
  if (!tty) {
    if (Math.floor(percent / 10) === Math.floor(lastPlainPercent / 10) && percent !== 100) return;
    lastPlainPercent = percent;
    process.stderr.write(`[bench] ${label} ${percent}% ${detail}\n`);
    return;
  }
  const width = 30;
  const filled = Math.round(fraction * width);
  process.stderr.write(
    `\r\x1b[2K[bench] ${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${detail}`,
  );
  barShown = true;
}

export function endProgress(): void {
  clearBar();
  lastPlainPercent = -1;
}

/** Nearest-rank percentile of unsorted values (NaN when empty). */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (n: number, digits = 0) =>
  Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null;

export interface ChartPoint {
  offered: number;
  completedPerSecond: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

const whiteBackground: Plugin = {
  id: 'whiteBackground',
  beforeDraw: (chart) => {
    const { ctx } = chart;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

/** Latency percentiles (left axis, log scale) and completed orders/s (right axis) against offered load. */
export function writeChart(file: string, points: readonly ChartPoint[], subtitle: string): void {
  Chart.register(...registerables);
  const canvas = createCanvas(1100, 560);
  const chart = new Chart(canvas.getContext('2d') as unknown as ConstructorParameters<typeof Chart>[0], {
    type: 'line',
    data: {
      labels: points.map((p) => String(p.offered)),
      datasets: [
        {
          label: 'p50 ms',
          data: points.map((p) => p.p50),
          borderColor: '#2b8a3e',
          backgroundColor: '#2b8a3e',
          yAxisID: 'latency',
        },
        {
          label: 'p95 ms',
          data: points.map((p) => p.p95),
          borderColor: '#e67700',
          backgroundColor: '#e67700',
          yAxisID: 'latency',
        },
        {
          label: 'p99 ms',
          data: points.map((p) => p.p99),
          borderColor: '#c92a2a',
          backgroundColor: '#c92a2a',
          yAxisID: 'latency',
        },
        {
          label: 'completed orders/s',
          data: points.map((p) => p.completedPerSecond),
          borderColor: '#1864ab',
          backgroundColor: '#1864ab',
          borderWidth: 3,
          yAxisID: 'throughput',
        },
        {
          label: 'offered orders/s',
          data: points.map((p) => p.offered),
          borderColor: '#868e96',
          borderDash: [6, 4],
          pointRadius: 0,
          yAxisID: 'throughput',
        },
      ],
    },
    options: {
      responsive: false,
      animation: false,
      plugins: {
        title: {
          display: true,
          text: 'shopstream saga: placement → COMPLETED against offered load',
          font: { size: 18 },
        },
        subtitle: { display: true, text: subtitle },
        legend: { position: 'bottom' },
      },
      scales: {
        x: { title: { display: true, text: 'offered load (POST /orders per second, open loop)' } },
        latency: {
          type: 'logarithmic',
          position: 'left',
          title: { display: true, text: 'latency to COMPLETED (ms, log scale)' },
        },
        throughput: {
          type: 'linear',
          position: 'right',
          beginAtZero: true,
          title: { display: true, text: 'orders/s' },
          grid: { drawOnChartArea: false },
        },
      },
    },
    plugins: [whiteBackground],
  });
  writeFileSync(file, canvas.toBuffer('image/png'));
  chart.destroy();
}

/** CPU counters from /proc (Linux): the whole machine's busy and total jiffies, and one process tree's CPU. */
export function machineCpu(): { busy: number; total: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The executable's name (/proc/<pid>/stat's comm). */
  name: string;
  ticks: number;
  cmd: string;
}

/** Every process of the machine, with its CPU ticks so far (threads included). */
function processes(): ProcessInfo[] {
  const procs: ProcessInfo[] = [];
  try {
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        procs.push({
          pid: Number(pid),
          ppid: Number(rest[1]),
          name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
          ticks: Number(rest[11]) + Number(rest[12]),
          cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8'),
        });
      } catch {
        // the process ended while we read it
      }
    }
  } catch {
    // no /proc
  }
  return procs;
}

const ticksToMs = (ticks: number) => ticks * 10; // USER_HZ = 100

/** The descendants of `ancestor` whose command line contains `pattern`, with their CPU ticks. */
function descendants(ancestor: number, pattern: string): ProcessInfo[] {
  const procs = processes();
  const family = new Set([ancestor]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (family.has(p.ppid) && !family.has(p.pid)) {
        family.add(p.pid);
        grew = true;
      }
    }
  }
  return procs.filter((p) => family.has(p.pid) && p.cmd.includes(pattern));
}

/** CPU milliseconds used so far by the descendants of `ancestor` whose command line contains `pattern` (threads included). */
export function descendantCpuMs(ancestor: number, pattern: string): number {
  return ticksToMs(descendants(ancestor, pattern).reduce((sum, p) => sum + p.ticks, 0));
}

/**
 * CPU milliseconds used so far by the other processes an order costs: every PostgreSQL process
 * on the machine (the server is shared: other databases' work counts too), the Kafka broker
 * (`java`) and this process (the bench's own HTTP client and polling).
 */
export function serverCpuMs(): { postgres: number; kafka: number; client: number } {
  const cpu = { postgres: 0, kafka: 0, client: 0 };
  for (const p of processes()) {
    if (p.name === 'postgres') cpu.postgres += ticksToMs(p.ticks);
    else if (p.name === 'java') cpu.kafka += ticksToMs(p.ticks);
    else if (p.pid === process.pid) cpu.client += ticksToMs(p.ticks);
  }
  return cpu;
}

export interface Peaks {
  /** Resident memory of serverless-offline (all its threads), MB. */
  rssMb: number;
  threads: number;
  /** Backends connected to the stack's database (pg_stat_activity). */
  connections: number;
}

/**
 * Samples serverless-offline's resident memory and thread count (/proc) and the database's
 * connections every 200 ms until `stop()`, which returns the peaks.
 */
export function samplePeaks(sql: Sql, database: string): { stop(): Promise<Peaks> } {
  const peaks: Peaks = { rssMb: 0, threads: 0, connections: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const p of descendants(process.pid, 'serverless.js')) {
        try {
          const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
          const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
          peaks.rssMb = Math.max(peaks.rssMb, Math.round(rssKb / 1024));
          peaks.threads = Math.max(peaks.threads, Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0));
        } catch {
          // it ended
        }
      }
      const [row] = await sql<
        { n: number }[]
      >`select count(*)::int as n from pg_stat_activity where datname = ${database}`.catch(() => [{ n: 0 }]);
      peaks.connections = Math.max(peaks.connections, row?.n ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peaks;
    },
  };
}

/** Busy share of all cores between two machineCpu() readings, in percent. */
export const busyPercent = (a: { busy: number; total: number }, b: { busy: number; total: number }) =>
  b.total > a.total ? round(((b.busy - a.busy) / (b.total - a.total)) * 100) : null;
