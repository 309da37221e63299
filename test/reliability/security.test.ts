/**
 * Security: admin writes refuse a missing or wrong key (and change nothing); SQL injection strings
 * in every text field are stored verbatim or refused, never executed; card numbers appear in no
 * API response (payments show only the last four digits) and in no log line of the run
 * (serverless-offline's output file, OFFLINE_LOG, set by infra/cli/test.ts).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { adminKey, api, eventually, expectProblem, requireEnv } from '../support/api.ts';
import { closeTestDb, seedProduct, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { orderEventsConsumed, settled } from '../saga/saga-helpers.ts';
import { INJECTIONS, uniqueCard } from './support.ts';

afterAll(closeTestDb);

async function fingerprint(): Promise<string> {
  const sql = testDb();
  const rows = await sql.unsafe(`
    select (select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from product.products t)
        || (select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from product.categories t)
        || (select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from product.product_categories t)
        || (select count(*)::text from orders.orders) as f`);
  return rows[0]!.f as string;
}

async function tablesIntact(): Promise<void> {
  const sql = testDb();
  const [row] = await sql`
    select count(*)::int as n from unnest(array['product.products','product.categories','inventory.stock','orders.orders','payment.payments','platform.outbox']) as t(name)
    where to_regclass(t.name) is not null`;
  expect(row!.n).toBe(6);
}

describe('admin routes', () => {
  const wrongKeys = (key: string) => ({
    missing: undefined,
    empty: '',
    'wrong, same length': key.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x')),
    'wrong, longer': `${key}x`,
    prefix: key.slice(0, -1),
    'upper case': key.toUpperCase() === key ? key.toLowerCase() : key.toUpperCase(),
    // (Not " key ": HTTP strips a header value's surrounding spaces, so that is the right key.)
    'with a space inside': `${key.slice(0, 3)} ${key.slice(3)}`,
    injection: "' or '1'='1",
  });

  it('refuse missing and wrong keys with 401/403 problems and change nothing', async () => {
    const product = await seedProduct();
    const [category] =
      await testDb()`insert into product.categories (id, name, slug) values (${randomUUID()}, 'Sec', ${`sec-${randomUUID()}`}) returning id`;
    const routes: [string, string, unknown][] = [
      ['POST', '/categories', { name: 'x' }],
      ['PATCH', `/categories/${category!.id}`, { name: 'y' }],
      ['DELETE', `/categories/${category!.id}`, undefined],
      ['POST', '/products', { sku: `SEC-${randomUUID()}`, name: 'x', price: 1 }],
      ['PATCH', `/products/${product}`, { name: 'changed' }],
      ['DELETE', `/products/${product}`, undefined],
      ['PUT', `/products/${product}/categories`, { categoryIds: [] }],
      ['PUT', `/inventory/${product}`, { onHand: 1 }],
    ];
    const before = await fingerprint();
    const stock = await testDb()`select on_hand from inventory.stock where product_id = ${product}`;
    for (const [method, path, body] of routes) {
      for (const [label, key] of Object.entries(wrongKeys(adminKey()))) {
        const response = await api(method, path, {
          body,
          headers: key === undefined ? {} : { 'x-api-key': key },
        });
        expect({ method, path, label, status: [401, 403].includes(response.status) }).toEqual({
          method,
          path,
          label,
          status: true,
        });
        expectProblem(response, response.status);
      }
    }
    expect(await fingerprint()).toBe(before);
    expect(await testDb()`select on_hand from inventory.stock where product_id = ${product}`).toEqual(stock);
  });
});

describe('SQL injection strings in every text field', () => {
  it('are stored verbatim or refused with a 4xx, never executed', async () => {
    for (const text of INJECTIONS) {
      const slug = `inj-${randomUUID().slice(0, 8)}`;
      const category = await api('POST', '/categories', { admin: true, body: { name: text, slug } });
      expect(category.status).toBeLessThan(500);
      if (category.status === 201)
        expect((await api('GET', `/categories/${category.body.id}`)).body.name).toBe(text.trim());
      const slugged = await api('POST', '/categories', {
        admin: true,
        body: { name: 'Injection', slug: text },
      });
      expect(slugged.status).toBeLessThan(500);

      const product = await api('POST', '/products', {
        admin: true,
        body: { sku: `${text}-${randomUUID().slice(0, 6)}`, name: text, description: text, price: 100 },
      });
      expect(product.status).toBeLessThan(500);
      if (product.status === 201) {
        const read = await api('GET', `/products/${product.body.id}`);
        expect(read.body).toMatchObject({
          name: text.trim(),
          description: expect.stringContaining(text.trim().slice(0, 10)),
        });
        const patched = await api('PATCH', `/products/${product.body.id}`, {
          admin: true,
          body: { name: `${text} 2`, description: text },
        });
        expect(patched.status).toBeLessThan(500);
      }
      for (const path of [
        `/products?q=${encodeURIComponent(text)}`,
        `/products/${encodeURIComponent(text)}`,
        `/categories/${encodeURIComponent(text)}`,
        `/orders?customerId=${encodeURIComponent(text)}`,
        `/orders/${encodeURIComponent(text)}`,
        `/orders/${encodeURIComponent(text)}/timeline`,
        `/payments/${encodeURIComponent(text)}`,
        `/inventory/${encodeURIComponent(text)}`,
      ]) {
        const response = await api('GET', path);
        expect({ path, status: response.status < 500 }).toEqual({ path, status: true });
        if (response.status >= 400) expectProblem(response, response.status);
      }
      const productId = await seedProduct();
      const order = await api('POST', '/orders', {
        body: { customerId: text, items: [{ productId, quantity: 1 }], payment: { cardNumber: text } },
        headers: { 'idempotency-key': text.replace(/[^\x20-\x7e]/g, '?') },
      });
      expect(order.status).toBeGreaterThanOrEqual(400);
      expect(order.status).toBeLessThan(500);
      const keyed = await api('POST', '/orders', {
        body: {
          customerId: randomUUID(),
          items: [{ productId, quantity: 1 }],
          payment: { cardNumber: '4242424242424242' },
        },
        headers: { 'idempotency-key': text.replace(/[^\x20-\x7e]/g, '?') },
      });
      expect(keyed.status).toBeLessThan(500);
    }
    await tablesIntact();
    // The search did not match everything (a `' or '1'='1` executed as SQL would).
    const search = await api('GET', `/products?q=${encodeURIComponent("' or '1'='1")}&limit=100`);
    expect(
      search.body.items.every((p: { name: string; sku: string; description: string | null }) =>
        `${p.name} ${p.sku} ${p.description}`.includes("' or '1'='1"),
      ),
    ).toBe(true);
    await expectInvariants();
  }, 120_000);
});

describe('card numbers', () => {
  it('appear in no response and no log line; payments show the last four digits', async () => {
    const card = uniqueCard();
    const productId = await seedProduct();
    const customerId = randomUUID();
    const placed = await api('POST', '/orders', {
      body: { customerId, items: [{ productId, quantity: 1 }], payment: { cardNumber: card } },
    });
    expect(placed.status).toBe(202);
    await settled(placed.body.id, 60_000);
    // A refused order carrying the card, and a replay of the same Idempotency-Key with another body.
    const refused = await api('POST', '/orders', {
      body: { customerId, items: [{ productId: 'nope', quantity: -1 }], payment: { cardNumber: card } },
    });
    expect(refused.status).toBe(400);
    const key = randomUUID();
    const keyed = await api('POST', '/orders', {
      body: { customerId, items: [{ productId, quantity: 1 }], payment: { cardNumber: card } },
      headers: { 'idempotency-key': key },
    });
    const conflict = await api('POST', '/orders', {
      body: { customerId, items: [{ productId, quantity: 2 }], payment: { cardNumber: card } },
      headers: { 'idempotency-key': key },
    });
    expect(keyed.status).toBe(202);
    expect(conflict.status).toBe(409);

    const responses = [
      placed,
      refused,
      conflict,
      await api('GET', `/orders/${placed.body.id}`),
      await api('GET', `/orders/${placed.body.id}/timeline`),
      await api('GET', `/orders?customerId=${customerId}`),
      await api('GET', `/orders/${placed.body.id}/payments`),
    ];
    const payments = responses.at(-1)!.body.items;
    expect(payments.length).toBeGreaterThan(0);
    for (const payment of payments) {
      expect(payment.cardLast4).toBe(card.slice(-4));
      expect((await api('GET', `/payments/${payment.id}`)).text).not.toContain(card);
    }
    for (const response of responses) expect(response.text).not.toContain(card);

    // The log has caught up once it holds the line of a request made after everything above: both
    // orders' sagas have run to their end (every event consumed), so whatever they logged came first.
    await orderEventsConsumed([placed.body.id, keyed.body.id]);
    const marker = randomUUID();
    expect((await api('GET', `/orders/${marker}`)).status).toBe(404);
    const log = await eventually(
      async () => {
        const text = readFileSync(requireEnv('OFFLINE_LOG'), 'utf8');
        return text.includes(marker) && text;
      },
      { timeoutMs: 15_000, what: 'the log line of the last request' },
    );
    expect(log).toContain(placed.body.id); // the order's own log lines are in this file
    expect(log.includes(card)).toBe(false);
    // Nor split by formatting (spaces or dashes every four digits).
    expect(log.includes(card.replace(/(\d{4})(?=\d)/g, '$1 '))).toBe(false);
    expect(log.includes(card.replace(/(\d{4})(?=\d)/g, '$1-'))).toBe(false);
  }, 90_000);
});
