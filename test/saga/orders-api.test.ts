/**
 * The order HTTP API around the saga: validation (4xx problem+json, nothing written), prices from
 * the catalog, Idempotency-Key, reads, listing with keyset pagination, and cancel's rules.
 */
import { randomUUID } from 'node:crypto';
import { api, expectProblem } from '../support/api.ts';
import { closeTestDb, seedProduct, stockSettlesAt, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { place, settled } from './saga-helpers.ts';

afterEach(expectInvariants);
afterAll(closeTestDb);

describe('POST /orders validation', () => {
  let product: string;
  beforeAll(async () => {
    product = await seedProduct();
  });
  const valid = () => ({
    customerId: randomUUID(),
    items: [{ productId: product, quantity: 1 }],
    payment: { cardNumber: '4242424242424242' },
  });

  it.each([
    [
      'a card number failing the Luhn check',
      (b: any) => (b.payment.cardNumber = '4242424242424241'),
      'body.payment.cardNumber',
    ],
    [
      'a card number with letters',
      (b: any) => (b.payment.cardNumber = '4242-4242-4242-4242'),
      'body.payment.cardNumber',
    ],
    ['quantity 0', (b: any) => (b.items[0].quantity = 0), 'body.items.0.quantity'],
    ['a negative quantity', (b: any) => (b.items[0].quantity = -2), 'body.items.0.quantity'],
    ['quantity 1001', (b: any) => (b.items[0].quantity = 1001), 'body.items.0.quantity'],
    ['a fractional quantity', (b: any) => (b.items[0].quantity = 1.5), 'body.items.0.quantity'],
    ['no items', (b: any) => (b.items = []), 'body.items'],
    [
      '51 items',
      (b: any) => (b.items = Array.from({ length: 51 }, () => ({ productId: randomUUID(), quantity: 1 }))),
      'body.items',
    ],
    ['a client-supplied price', (b: any) => (b.items[0].unitPrice = 1), 'body.items.0'],
    ['a malformed product id', (b: any) => (b.items[0].productId = 'abc'), 'body.items.0.productId'],
    ['no customer', (b: any) => delete b.customerId, 'body.customerId'],
  ])('refuses %s with 400 and writes nothing', async (_name, spoil, path) => {
    const body = valid();
    const { customerId } = body;
    spoil(body);
    const response = await api('POST', '/orders', { body });
    expectProblem(response, 400);
    expect(response.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    // This block accepts no order: none has its customer or its product (whatever other files write).
    const written = await testDb()`
      select id from orders.orders o
      where customer_id = ${customerId}
         or exists (select 1 from orders.order_items i where i.order_id = o.id and i.product_id = ${product})`;
    expect(written).toEqual([]);
  });

  it('refuses malformed JSON (400), another content type (415) and merged quantities above 1000 (400)', async () => {
    expectProblem(await api('POST', '/orders', { raw: '{"customerId": ' }), 400);
    expectProblem(
      await api('POST', '/orders', {
        raw: JSON.stringify(valid()),
        headers: { 'content-type': 'text/plain' },
      }),
      415,
    );
    const body = valid();
    body.items = [
      { productId: product, quantity: 600 },
      { productId: product, quantity: 600 },
    ];
    expectProblem(await api('POST', '/orders', { body }), 400);
  });
});

describe('placing orders', () => {
  it('takes prices from the catalog and merges a product listed twice', async () => {
    const a = await seedProduct({ price: 300 });
    const b = await seedProduct({ price: 1000 });
    const placed = await place([
      { productId: a, quantity: 1 },
      { productId: b, quantity: 2 },
      { productId: a, quantity: 4 },
    ]);
    expect(placed.total).toBe(5 * 300 + 2 * 1000);
    expect(placed.items).toEqual(
      expect.arrayContaining([
        { productId: a, quantity: 5, unitPrice: 300 },
        { productId: b, quantity: 2, unitPrice: 1000 },
      ]),
    );
    expect(await settled(placed.id)).toMatchObject({ status: 'COMPLETED' });
  });

  it('Idempotency-Key: the same body gives the same order; another body gives 409', async () => {
    const product = await seedProduct({ onHand: 10 });
    const key = randomUUID();
    const body = {
      customerId: randomUUID(),
      items: [{ productId: product, quantity: 2 }],
      payment: { cardNumber: '4242424242424242' },
    };
    const [first, second] = await Promise.all([
      api('POST', '/orders', { body, headers: { 'idempotency-key': key } }),
      api('POST', '/orders', { body, headers: { 'idempotency-key': key } }),
    ]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.body.id).toBe(first.body.id);
    const other = await api('POST', '/orders', {
      body: { ...body, items: [{ productId: product, quantity: 3 }] },
      headers: { 'idempotency-key': key },
    });
    expectProblem(other, 409);
    await settled(first.body.id);
    const again = await api('POST', '/orders', { body, headers: { 'idempotency-key': key } });
    expect(again.body).toMatchObject({ id: first.body.id, status: 'COMPLETED' });
    await stockSettlesAt(product, { onHand: 8, reserved: 0 });
  });
});

describe('reading orders', () => {
  it('answers unknown ids with 404 and malformed ids with 400', async () => {
    const id = randomUUID();
    for (const path of [`/orders/${id}`, `/orders/${id}/timeline`, `/payments/${id}`])
      expectProblem(await api('GET', path), 404);
    expectProblem(await api('POST', `/orders/${id}/cancel`), 404);
    expectProblem(await api('GET', '/orders/nope'), 400);
    expectProblem(await api('GET', '/orders?limit=0'), 400);
    expectProblem(await api('GET', '/orders?status=LOST'), 400);
  });

  it('lists a customer’s orders newest first, page by page, and by status', async () => {
    const product = await seedProduct({ onHand: 100 });
    const customerId = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await api('POST', '/orders', {
        body: {
          customerId,
          items: [{ productId: product, quantity: 1 }],
          payment: { cardNumber: '4000000000000002' },
        },
      });
      ids.push(response.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api(
        'GET',
        `/orders?customerId=${customerId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((o: { id: string }) => o.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    await Promise.all(ids.map((id) => settled(id)));
    const failed = await api('GET', `/orders?customerId=${customerId}&status=FAILED&limit=100`);
    expect(failed.body.items).toHaveLength(5);
    expect((await api('GET', `/orders?customerId=${customerId}&status=COMPLETED`)).body).toEqual({
      items: [],
      nextCursor: null,
    });
  });
});

describe('cancelling', () => {
  it('refuses to cancel a COMPLETED or FAILED order (409); cancelling twice answers the cancelled order', async () => {
    const product = await seedProduct({ onHand: 10 });
    const completed = await settled((await place([{ productId: product, quantity: 1 }])).id);
    expectProblem(await api('POST', `/orders/${completed.id}/cancel`), 409);
    const failed = await settled((await place([{ productId: product, quantity: 1 }], '4000000000000002')).id);
    expectProblem(await api('POST', `/orders/${failed.id}/cancel`), 409);

    const placed = await place([{ productId: product, quantity: 2 }], '4000000000000408');
    const cancelled = await api('POST', `/orders/${placed.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    const again = await api('POST', `/orders/${placed.id}/cancel`);
    expect(again.body).toMatchObject({ id: placed.id, status: 'CANCELLED' });
    await stockSettlesAt(product, { onHand: 9, reserved: 0 });
  });
});

describe('OpenAPI', () => {
  it('describes the order and payment operations from the same schemas', async () => {
    const doc = (await api('GET', '/openapi.json')).body;
    expect(doc.paths['/orders'].post.operationId).toBe('placeOrder');
    expect(doc.paths['/orders'].get.operationId).toBe('listOrders');
    expect(doc.paths['/orders/{id}/cancel'].post.operationId).toBe('cancelOrder');
    expect(doc.paths['/payments/{id}'].get.operationId).toBe('getPayment');
    expect(doc.paths['/orders/{id}/payments'].get.operationId).toBe('listOrderPayments');
    expect(doc.components.schemas.Order.properties.status).toBeDefined();
  });
});
