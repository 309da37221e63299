/**
 * Input fuzzing with fast-check over every route of GET /openapi.json: random path parameters,
 * query strings, headers (admin key, content type, Idempotency-Key), bodies (any JSON, near-valid
 * objects, non-JSON text, invalid UTF-8, oversized). Every answer is 2xx or 4xx (never 5xx), every
 * 4xx is an application/problem+json, and a 4xx changes nothing in the database. Runs per route:
 * FUZZ_RUNS (default 25; `npm run chaos` raises it). `npm test` fuzzes with a fixed seed so CI is
 * repeatable (FUZZ_SEED=<n> picks another); `npm run chaos` explores with a random seed
 * (FUZZ_SEED=random), which fast-check prints with any counterexample.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { adminKey, api, apiUrl } from '../support/api.ts';
import { closeTestDb, seedProduct, testDb } from '../support/fixtures.ts';
import { INJECTIONS, scaled } from './support.ts';

afterAll(closeTestDb);

const RUNS = Number(process.env.FUZZ_RUNS ?? scaled(25));
const SEED = process.env.FUZZ_SEED === 'random' ? undefined : Number(process.env.FUZZ_SEED ?? 20261124);
const MAX_BODY_BYTES = 64 * 1024;

let ids: string[] = [];
const products: string[] = [];

async function fingerprint(): Promise<string> {
  const sql = testDb();
  const [row] = await sql.unsafe(`
    select (select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from product.products t)
        || (select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from product.categories t)
        || (select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from product.product_categories t)
        || (select count(*)::text from orders.orders) || ':' || (select count(*)::text from orders.order_items) as f`);
  const stock =
    await sql`select product_id, on_hand from inventory.stock where product_id in ${sql(products)} order by product_id`;
  return `${row!.f}|${JSON.stringify(stock)}`;
}

interface Operation {
  method: string;
  path: string;
  hasBody: boolean;
  properties: string[];
  query: string[];
}

async function operations(): Promise<Operation[]> {
  const doc = (await api('GET', '/openapi.json')).body;
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
    if (path.startsWith('/swagger') || path === '/openapi.json') continue;
    for (const [method, op] of Object.entries<any>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const schema = op.requestBody?.content?.['application/json']?.schema;
      const resolved = schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
      ops.push({
        method: method.toUpperCase(),
        path,
        hasBody: Boolean(op.requestBody),
        properties: Object.keys(resolved?.properties ?? {}),
        query: (op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name),
      });
    }
  }
  return ops;
}

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(...INJECTIONS),
  fc.constantFrom('', ' ', '0', '-1', '1e309', 'null', 'true', '[]', '{}', 'x'.repeat(300)),
);
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  text,
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 2 ** 31, Number.MAX_SAFE_INTEGER, 1.5),
);
const token = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.+-'),
  minLength: 1,
  maxLength: 12,
});
const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 60,
});

function requestArbitrary(op: Operation) {
  // Not '', '.' or '..': those change the route itself (the gateway answers, not a function).
  const idArb = fc.oneof(
    fc.constantFrom(...ids),
    fc.uuid(),
    text.filter((t) => !['', '.', '..'].includes(t)),
  );
  const body = fc.oneof(
    // Near-valid: the operation's own fields with random values, sometimes an unknown one.
    fc
      .record(
        { ...Object.fromEntries(op.properties.map((p) => [p, anyValue])), extra: anyValue },
        { requiredKeys: [] },
      )
      .map((o) => ({ json: o })),
    fc.jsonValue({ maxDepth: 4 }).map((o) => ({ json: o })),
    text.map((t) => ({ raw: t })),
    fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((bytes) => ({
        bytes: Buffer.concat([
          Buffer.from('{"name":"'),
          Buffer.from(bytes),
          Buffer.from([0xc3, 0x28, 0xff]),
          Buffer.from('"}'),
        ]),
      })),
    fc.constantFrom(
      { raw: `{"name":"${'x'.repeat(MAX_BODY_BYTES)}"}` },
      { raw: '{"a":'.repeat(5000) },
      { raw: '[' + '1,'.repeat(30000) + '1]' },
    ),
  );
  return fc.record({
    params: fc.array(idArb, { minLength: 3, maxLength: 3 }),
    query: fc.dictionary(
      fc.oneof(fc.constantFrom(...(op.query.length ? op.query : ['q'])), printable),
      text,
      { maxKeys: 3 },
    ),
    key: fc.oneof(fc.constant(adminKey()), fc.constant(adminKey()), printable, fc.constant(undefined)),
    // Any well-formed media type (a malformed content-type header is refused by the gateway itself,
    // serverless-offline's hapi or API Gateway, before a function runs).
    contentType: fc.oneof(
      fc.constant('application/json'),
      fc.constantFrom(
        'application/json; charset=utf-8',
        'application/problem+json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
        'application/xml',
        '',
      ),
      fc
        .tuple(
          token.filter((t) => t !== 'multipart'),
          token,
          fc.option(fc.tuple(token, token), { nil: undefined }),
        )
        .map(([type, sub, param]) => `${type}/${sub}${param ? `; ${param[0]}=${param[1]}` : ''}`),
    ),
    idempotencyKey: fc.option(printable, { nil: undefined }),
    body: op.hasBody || op.method !== 'GET' ? fc.option(body, { nil: undefined }) : fc.constant(undefined),
  });
}

async function send(op: Operation, req: any) {
  let i = 0;
  const path = op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(String(req.params[i++] ?? '')));
  const query = new URLSearchParams(Object.entries(req.query as Record<string, string>)).toString();
  const headers: Record<string, string> = {};
  if (req.key !== undefined) headers['x-api-key'] = req.key;
  if (req.contentType) headers['content-type'] = req.contentType;
  if (req.idempotencyKey !== undefined) headers['idempotency-key'] = req.idempotencyKey;
  const b = req.body as { json?: unknown; raw?: string; bytes?: Buffer } | undefined;
  const payload = b === undefined ? undefined : (b.bytes ?? b.raw ?? JSON.stringify(b.json));
  const response = await fetch(`${apiUrl()}${path}${query ? `?${query}` : ''}`, {
    method: op.method,
    headers,
    body: payload as never,
  });
  const raw = await response.text();
  let parsed: any;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: parsed,
    raw,
    url: `${op.method} ${path}${query ? `?${query}` : ''}`,
  };
}

beforeAll(async () => {
  products.push(await seedProduct({ onHand: 50 }), await seedProduct({ onHand: 5, deleted: true }));
  const [category] =
    await testDb()`insert into product.categories (id, name, slug) values (${randomUUID()}, 'Fuzz', ${`fuzz-${randomUUID()}`}) returning id`;
  ids = [...products, category!.id as string];
});

it('every route answers 2xx or a 4xx problem, never 5xx, and a 4xx changes nothing', async () => {
  const ops = await operations();
  expect(ops.length).toBeGreaterThanOrEqual(15);
  const seen: Record<string, Record<number, number>> = {};
  for (const op of ops) {
    await fc.assert(
      fc.asyncProperty(requestArbitrary(op), async (req) => {
        const before = await fingerprint();
        const res = await send(op, req);
        (seen[`${op.method} ${op.path}`] ??= {})[res.status] =
          (seen[`${op.method} ${op.path}`]?.[res.status] ?? 0) + 1;
        const ok = res.status >= 200 && res.status < 300;
        const refused = res.status >= 400 && res.status < 500;
        if (!ok && !refused) throw new Error(`${res.url} answered ${res.status}: ${res.raw.slice(0, 300)}`);
        if (refused) {
          if (res.type !== 'application/problem+json')
            throw new Error(`${res.url} answered ${res.status} as ${res.type}: ${res.raw.slice(0, 200)}`);
          if (
            res.body?.status !== res.status ||
            typeof res.body?.title !== 'string' ||
            typeof res.body?.detail !== 'string'
          )
            throw new Error(`${res.url}: not a problem: ${res.raw.slice(0, 200)}`);
          const after = await fingerprint();
          if (after !== before) throw new Error(`${res.url} answered ${res.status} but changed the database`);
        }
      }),
      { numRuns: RUNS, endOnFailure: true, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
  }
  // The fuzzing reached past authentication and validation at least somewhere.
  expect(Object.values(seen).some((s) => Object.keys(s).some((status) => Number(status) < 300))).toBe(true);
}, 600_000);

it('refuses bodies over the limit with 413 on every write route, and changes nothing', async () => {
  const before = await fingerprint();
  const [product] = products;
  const cases: [string, string][] = [
    ['POST', '/products'],
    ['POST', '/categories'],
    ['PATCH', `/products/${product}`],
    ['PUT', `/inventory/${product}`],
    ['POST', '/orders'],
  ];
  for (const [method, path] of cases) {
    for (const size of [MAX_BODY_BYTES + 1, 512 * 1024]) {
      const raw = JSON.stringify({ name: 'x'.repeat(size) });
      const response = await api(method, path, { raw, admin: true });
      expect({
        method,
        path,
        size,
        status: response.status,
        type: response.headers.get('content-type'),
      }).toEqual({ method, path, size, status: 413, type: 'application/problem+json' });
    }
  }
  // Far beyond the limit: refused before any handler runs (serverless-offline / API Gateway), still a 413.
  const huge = await fetch(`${apiUrl()}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ pad: 'x'.repeat(12 * 1024 * 1024) }),
  });
  expect(huge.status).toBe(413);
  expect(await fingerprint()).toBe(before);
}, 120_000);
