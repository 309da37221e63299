/**
 * Parts 2 and 3: the end-to-end saga through the HTTP API, serverless-offline and the offline
 * MSK triggers. Open loop: request i of a step is sent at t0 + i / rate whether or not earlier
 * ones have answered. Latency is placement → COMPLETED from the order timeline (both timestamps
 * are Postgres clock_timestamp(), so the client's clock and HTTP queueing before the insert are
 * left out; the POST's own latency is reported separately).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Sql } from 'postgres';
import {
  busyPercent,
  descendantCpuMs,
  endProgress,
  load,
  machineCpu,
  percentile,
  progress,
  round,
  say,
  serverCpuMs,
} from './report.ts';

const APPROVED_CARD = '4242424242424242';
const TERMINAL = ['COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED'];

export interface SagaStep {
  offered: number;
  seconds: number;
  sent: number;
  accepted: number;
  httpErrors: number;
  /** Count of each HTTP status other than 202 (0: no answer within 30 s; -1: shed by the in-flight cap, never sent). */
  httpStatuses: Record<string, number>;
  /** Accepted POSTs per second actually sent (below `offered` if the client itself fell behind). */
  acceptedPerSecond: number | null;
  postP50Ms: number | null;
  postP99Ms: number | null;
  completed: number;
  otherTerminal: number;
  unfinished: number;
  /** Completed orders ÷ (last COMPLETED − first placement). */
  completedPerSecond: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Where the time goes (p50 / p99): placement → RESERVED (order.placed, reserveStock, stock.reserved, onStockReserved) and RESERVED → COMPLETED (payment.requested, processPayment, the charge Invoke). */
  toReservedP50Ms: number | null;
  toReservedP99Ms: number | null;
  reservedToCompletedP50Ms: number | null;
  reservedToCompletedP99Ms: number | null;
  drainSeconds: number;
  /** CPU of the serverless-offline process (HTTP, the MSK plugin and every Lambda worker thread) per accepted order. */
  offlineCpuMsPerOrder: number | null;
  /** CPU per accepted order of PostgreSQL (all of the machine's), the Kafka broker and the bench's own client. */
  postgresCpuMsPerOrder: number | null;
  kafkaCpuMsPerOrder: number | null;
  clientCpuMsPerOrder: number | null;
  /** Busy share of all the machine's cores during the step, other engineers' work included. */
  machineBusyPercent: number | null;
  load: [number, number, number];
}

const statusCounts = (results: { id?: string; status: number }[]) => {
  const counts: Record<string, number> = {};
  for (const r of results) if (!r.id) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
};

const offlineCpu = () => descendantCpuMs(process.pid, 'serverless.js');

export interface FlashSale {
  /** POSTs sent, and orders that exist for the product afterwards. */
  orders: number;
  placed: number;
  stock: number;
  completed: number;
  rejected: number;
  other: number;
  unfinished: number;
  httpStatuses: Record<string, number>;
  settleSeconds: number | null;
  finalOnHand: number;
  finalReserved: number;
  exactlyStockCompleted: boolean;
  /** Per timeline status: seconds from the first POST until the first and the last order reached it. */
  stages: Record<string, { first: number; last: number; orders: number }>;
  load: [number, number, number];
}

/**
 * Products as the saga finds them in steady operation: in the catalog, in stock and in the order
 * service's price list (as if their product.created had been applied). Written straight to the
 * tables: otherwise every product's first order would also ask the product service for its price
 * (getProductPrices), a cost that belongs to a product created a moment ago, not to a sale.
 */
async function seedProducts(
  sql: Sql,
  { count, label, price, onHand }: { count: number; label: string; price: number; onHand: number },
): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    insert into product.products (id, sku, name, price, currency)
    select gen_random_uuid(), ${`BENCH-${label}-${randomUUID().slice(0, 8)}-`} || n, ${`bench ${label} `} || n, ${price}, 'USD'
    from generate_series(1, ${count}::int) n
    returning id`;
  const ids = rows.map((row) => row.id);
  await sql`insert into inventory.stock (product_id, on_hand) select unnest(${ids}::uuid[]), ${onHand}`;
  await sql`insert into orders.product_prices (product_id, price, currency, version)
            select unnest(${ids}::uuid[]), ${price}, 'USD', 1`;
  return ids;
}

export async function seedOrderProducts(sql: Sql, count: number): Promise<string[]> {
  return seedProducts(sql, { count, label: 'SAGA', price: 1999, onHand: 1_000_000_000 });
}

interface PostResult {
  id?: string;
  status: number;
  ms: number;
  retryAfter?: string | null;
  problem?: boolean;
}

/**
 * The bench's HTTP client: node:http with keep-alive connections (as many as requests in flight).
 * It shares the two cores with what it measures, and fetch (undici) cost it 2–5 ms of CPU per
 * order there (the ladder's `client ms`).
 */
const agent = new http.Agent({ keepAlive: true });

async function postOrder(apiUrl: string, productId: string, idempotencyKey?: string): Promise<PostResult> {
  const t0 = performance.now();
  const body = JSON.stringify({
    customerId: randomUUID(),
    items: [{ productId, quantity: 1 }],
    payment: { cardNumber: APPROVED_CARD },
  });
  try {
    const response = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>(
      (resolve, reject) => {
        const request = http.request(
          `${apiUrl}/orders`,
          {
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
              ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
            },
            signal: AbortSignal.timeout(30_000),
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
            res.on('error', reject);
          },
        );
        request.on('error', reject);
        request.end(body);
      },
    );
    let answer: { id?: string } = {};
    try {
      answer = JSON.parse(response.text) as { id?: string };
    } catch {
      // not JSON: no order id
    }
    return {
      ...(response.status === 202 && answer.id ? { id: answer.id } : {}),
      status: response.status,
      ms: performance.now() - t0,
      retryAfter: (response.headers['retry-after'] as string | undefined) ?? null,
      problem: response.headers['content-type'] === 'application/problem+json',
    };
  } catch {
    return { status: 0, ms: performance.now() - t0 };
  }
}

/** Waits until every order is terminal (or `timeoutMs`), showing progress; returns the seconds waited. */
async function drain(sql: Sql, ids: string[], label: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const [row] = await sql<
      { done: number }[]
    >`select count(*)::int as done from orders.orders where id = any(${ids}::uuid[]) and status = any(${TERMINAL})`;
    progress(
      label,
      row!.done,
      ids.length,
      `${row!.done}/${ids.length} settled, ${((performance.now() - started) / 1000).toFixed(0)} s draining`,
    );
    if (row!.done >= ids.length) break;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  endProgress();
  return (performance.now() - started) / 1000;
}

export async function runStep(
  sql: Sql,
  apiUrl: string,
  products: string[],
  rate: number,
  seconds: number,
  drainMs: number,
  maxInFlight = 200,
): Promise<SagaStep> {
  const total = Math.round(rate * seconds);
  let inFlight = 0;
  const pending: Promise<PostResult>[] = [];
  const label = `saga ${rate}/s`;
  const cpu0 = offlineCpu();
  const servers0 = serverCpuMs();
  const machine0 = machineCpu();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      while (pending.length < due) {
        // Open loop, but never more than maxInFlight unanswered POSTs (a client-side safety net
        // against piling up sockets): a request over the cap is counted as shed (status -1), not sent.
        if (inFlight >= maxInFlight) {
          pending.push(Promise.resolve({ status: -1, ms: 0 }));
          continue;
        }
        inFlight++;
        pending.push(
          postOrder(apiUrl, products[Math.floor(Math.random() * products.length)]!).finally(() => inFlight--),
        );
      }
      progress(label, pending.length, total, `${pending.length}/${total} sent`);
      if (pending.length >= total) resolve();
      else setTimeout(tick, Math.max(1, Math.min(20, 1000 / rate)));
    };
    tick();
  });
  const sendSeconds = (performance.now() - t0) / 1000;
  const results = await Promise.all(pending);
  endProgress();
  const ids = results.flatMap((r) => (r.id ? [r.id] : []));
  const postMs = results.filter((r) => r.id).map((r) => r.ms);
  const drainSeconds = await drain(sql, ids, `${label} drain`, drainMs);
  const cpu1 = offlineCpu();
  const servers1 = serverCpuMs();
  const machine1 = machineCpu();
  const perOrder = (ms: number) => (ids.length ? round(ms / ids.length, 1) : null);
  const rows = await sql<
    { status: string; placed: Date | null; reserved: Date | null; completed: Date | null }[]
  >`
    select o.status,
           (select min(t.at) from orders.timeline t where t.order_id = o.id and t.status = 'PENDING') as placed,
           (select min(t.at) from orders.timeline t where t.order_id = o.id and t.status = 'RESERVED') as reserved,
           (select min(t.at) from orders.timeline t where t.order_id = o.id and t.status = 'COMPLETED') as completed
    from orders.orders o where o.id = any(${ids}::uuid[])`;
  const done = rows.filter((r) => r.status === 'COMPLETED' && r.placed && r.completed);
  const latencies = done.map((r) => r.completed!.getTime() - r.placed!.getTime());
  const toReserved = done.flatMap((r) => (r.reserved ? [r.reserved.getTime() - r.placed!.getTime()] : []));
  const toCompleted = done.flatMap((r) =>
    r.reserved ? [r.completed!.getTime() - r.reserved.getTime()] : [],
  );
  const completions = done.map((r) => r.completed!.getTime());
  const firstCompleted = Math.min(...completions);
  const lastCompleted = Math.max(...completions);
  return {
    offered: rate,
    seconds,
    sent: total,
    accepted: ids.length,
    httpErrors: results.length - ids.length,
    httpStatuses: statusCounts(results),
    acceptedPerSecond: round(ids.length / sendSeconds, 1),
    postP50Ms: round(percentile(postMs, 50)),
    postP99Ms: round(percentile(postMs, 99)),
    completed: done.length,
    otherTerminal: rows.filter((r) => TERMINAL.includes(r.status) && r.status !== 'COMPLETED').length,
    unfinished: rows.filter((r) => !TERMINAL.includes(r.status)).length,
    // The rate completions came out at: the offered rate while the saga keeps up, its capacity once it does not.
    completedPerSecond:
      done.length > 1 && lastCompleted > firstCompleted
        ? round(((done.length - 1) / (lastCompleted - firstCompleted)) * 1000, 1)
        : null,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
    toReservedP50Ms: round(percentile(toReserved, 50)),
    toReservedP99Ms: round(percentile(toReserved, 99)),
    reservedToCompletedP50Ms: round(percentile(toCompleted, 50)),
    reservedToCompletedP99Ms: round(percentile(toCompleted, 99)),
    drainSeconds: round(drainSeconds, 1)!,
    offlineCpuMsPerOrder: perOrder(cpu1 - cpu0),
    postgresCpuMsPerOrder: perOrder(servers1.postgres - servers0.postgres),
    kafkaCpuMsPerOrder: perOrder(servers1.kafka - servers0.kafka),
    clientCpuMsPerOrder: perOrder(servers1.client - servers0.client),
    machineBusyPercent: busyPercent(machine0, machine1),
    load: load(),
  };
}

/** 100 concurrent one-unit orders on a product with 20 in stock: exactly 20 may complete. */
export async function runFlashSale(
  sql: Sql,
  apiUrl: string,
  orders: number,
  stock: number,
  drainMs: number,
): Promise<FlashSale> {
  const [product] = await seedProducts(sql, { count: 1, label: 'FLASH', price: 4999, onHand: stock });
  const startedAt = Date.now();
  const results = await Promise.all(Array.from({ length: orders }, () => postOrder(apiUrl, product!)));
  const answered = results.filter((r) => r.id).length;
  if (answered < orders)
    say(
      `flash sale: ${orders - answered} POSTs not answered 202 (a gateway timeout may still have placed its order)`,
    );
  // Every order of the product counts, also those whose POST timed out at the gateway after the
  // handler had written them (serverless-offline's 504 does not stop the handler).
  const ids = (
    await sql<{ id: string }[]>`select order_id as id from orders.order_items where product_id = ${product!}`
  ).map((r) => r.id);
  await drain(sql, ids, 'flash sale', drainMs);
  const rows = await sql<{ status: string; settled: Date }[]>`
    select o.status, (select max(t.at) from orders.timeline t where t.order_id = o.id) as settled from orders.orders o where o.id = any(${ids}::uuid[])`;
  const terminal = rows.filter((r) => TERMINAL.includes(r.status));
  const settleSeconds =
    terminal.length === rows.length && rows.length
      ? (Math.max(...rows.map((r) => r.settled.getTime())) - startedAt) / 1000
      : null;
  const stockRow = await stockOnceSettled(sql, product!);
  const completed = rows.filter((r) => r.status === 'COMPLETED').length;
  const stageRows = await sql<{ status: string; first: Date; last: Date; orders: number }[]>`
    select status, min(at) as first, max(at) as last, count(distinct order_id)::int as orders
    from orders.timeline where order_id = any(${ids}::uuid[]) group by status order by max(at)`;
  const since = (at: Date) => round((at.getTime() - startedAt) / 1000, 2)!;
  const stages = Object.fromEntries(
    stageRows.map((r) => [r.status, { first: since(r.first), last: since(r.last), orders: r.orders }]),
  );
  return {
    orders,
    placed: rows.length,
    stock,
    completed,
    rejected: rows.filter((r) => r.status === 'REJECTED').length,
    other: terminal.length - completed - rows.filter((r) => r.status === 'REJECTED').length,
    unfinished: rows.length - terminal.length,
    httpStatuses: statusCounts(results),
    settleSeconds: round(settleSeconds ?? Number.NaN, 2),
    finalOnHand: stockRow.onHand,
    finalReserved: stockRow.reserved,
    exactlyStockCompleted: completed === stock,
    stages,
    load: load(),
  };
}

export interface Burst {
  orders: number;
  stock: number;
  accepted: number;
  /** 503 problem answers with Retry-After: load shed before anything was written. */
  shed: number;
  /** Any other answer: a 5xx without Retry-After, a 4xx, no answer. Must be 0. */
  otherAnswers: Record<string, number>;
  /** Orders that exist although their POST was not answered 202 (a lie to the client). Must be 0. */
  writtenButNotAccepted: number;
  /** Orders answered 202 that do not exist. Must be 0. */
  acceptedButMissing: number;
  completed: number;
  settleSeconds: number | null;
  finalOnHand: number;
  finalReserved: number;
  exact: boolean;
  postP99Ms: number | null;
  load: [number, number, number];
}

/** `orders` simultaneous POSTs, each with its own Idempotency-Key, on one product with `stock` units. */
export async function runBurst(
  sql: Sql,
  apiUrl: string,
  orders: number,
  stock: number,
  drainMs: number,
): Promise<Burst> {
  const [product] = await seedProducts(sql, { count: 1, label: 'BURST', price: 999, onHand: stock });
  const startedAt = Date.now();
  const keys: string[] = Array.from({ length: orders }, () => randomUUID());
  const results = await Promise.all(keys.map((key) => postOrder(apiUrl, product!, key)));
  const accepted = new Set(keys.filter((_, i) => results[i]!.id));
  const shed = results.filter((r) => r.status === 503 && r.retryAfter && r.problem).length;
  const otherAnswers: Record<string, number> = {};
  for (const r of results)
    if (!r.id && !(r.status === 503 && r.retryAfter && r.problem))
      otherAnswers[r.status] = (otherAnswers[r.status] ?? 0) + 1;
  const written = await sql<{ id: string; key: string }[]>`
    select o.id, o.idempotency_key as key from orders.orders o join orders.order_items i on i.order_id = o.id where i.product_id = ${product!}`;
  await drain(
    sql,
    written.map((w) => w.id),
    'burst',
    drainMs,
  );
  const rows = await sql<{ status: string; settled: Date }[]>`
    select o.status, (select max(t.at) from orders.timeline t where t.order_id = o.id) as settled from orders.orders o where o.id = any(${written.map((w) => w.id)}::uuid[])`;
  const terminal = rows.filter((r) => TERMINAL.includes(r.status));
  const stockRow = await stockOnceSettled(sql, product!);
  const completed = rows.filter((r) => r.status === 'COMPLETED').length;
  const writtenKeys = new Set(written.map((w) => w.key));
  return {
    orders,
    stock,
    accepted: accepted.size,
    shed,
    otherAnswers,
    writtenButNotAccepted: written.filter((w) => !accepted.has(w.key)).length,
    acceptedButMissing: [...accepted].filter((key) => !writtenKeys.has(key)).length,
    completed,
    settleSeconds:
      terminal.length === rows.length && rows.length
        ? round((Math.max(...rows.map((r) => r.settled.getTime())) - startedAt) / 1000, 2)
        : null,
    finalOnHand: stockRow.onHand,
    finalReserved: stockRow.reserved,
    exact:
      completed === Math.min(stock, accepted.size) &&
      stockRow.onHand === stock - completed &&
      stockRow.reserved === 0,
    postP99Ms: round(
      percentile(
        results.map((r) => r.ms),
        99,
      ),
    ),
    load: load(),
  };
}

/** The product's stock once reserved has dropped to 0 (order.completed commits asynchronously), or after 10 s. */
async function stockOnceSettled(sql: Sql, productId: string): Promise<{ onHand: number; reserved: number }> {
  let stock = { onHand: -1, reserved: -1 };
  for (let i = 0; i < 50; i++) {
    const [row] = await sql<
      { onHand: number; reserved: number }[]
    >`select on_hand as "onHand", reserved from inventory.stock where product_id = ${productId}`;
    stock = row ?? stock;
    if (stock.reserved === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return stock;
}
