/**
 * The benchmark's output helpers: a progress bar on stderr, percentiles, the load average, and the
 * PNG chart (Chart.js drawn on a skia canvas from @napi-rs/canvas).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables, type Plugin } from 'chart.js';

export const say = (line: string) => {
  clearBar();
  process.stderr.write(`[bench] ${line}\n`);
};

export const load = (): [number, number, number] => loadavg().map((n) => Math.round(n * 100) / 100) as [number, number, number];

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
  process.stderr.write(`\r\x1b[2K[bench] ${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${detail}`);
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

export const round = (n: number, digits = 0) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null);

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
        { label: 'p50 ms', data: points.map((p) => p.p50), borderColor: '#2b8a3e', backgroundColor: '#2b8a3e', yAxisID: 'latency' },
        { label: 'p95 ms', data: points.map((p) => p.p95), borderColor: '#e67700', backgroundColor: '#e67700', yAxisID: 'latency' },
        { label: 'p99 ms', data: points.map((p) => p.p99), borderColor: '#c92a2a', backgroundColor: '#c92a2a', yAxisID: 'latency' },
        { label: 'completed orders/s', data: points.map((p) => p.completedPerSecond), borderColor: '#1864ab', backgroundColor: '#1864ab', borderWidth: 3, yAxisID: 'throughput' },
        { label: 'offered orders/s', data: points.map((p) => p.offered), borderColor: '#868e96', borderDash: [6, 4], pointRadius: 0, yAxisID: 'throughput' },
      ],
    },
    options: {
      responsive: false,
      animation: false,
      plugins: {
        title: { display: true, text: 'shopstream saga: placement → COMPLETED against offered load', font: { size: 18 } },
        subtitle: { display: true, text: subtitle },
        legend: { position: 'bottom' },
      },
      scales: {
        x: { title: { display: true, text: 'offered load (POST /orders per second, open loop)' } },
        latency: { type: 'logarithmic', position: 'left', title: { display: true, text: 'latency to COMPLETED (ms, log scale)' } },
        throughput: { type: 'linear', position: 'right', beginAtZero: true, title: { display: true, text: 'orders/s' }, grid: { drawOnChartArea: false } },
      },
    },
    plugins: [whiteBackground],
  });
  writeFileSync(file, canvas.toBuffer('image/png'));
  chart.destroy();
}
