import { randomUUID } from 'node:crypto';
import { api, eventually, expectProblem } from '../support/api.ts';
import { closeDb, postProduct, database, runTag } from '../product/support.ts';
import { closeLambda, invokeConsumer, outboxEvents } from './stock-support.ts';

const tag = runTag().toUpperCase();
afterAll(async () => {
  closeLambda();
  await closeDb();
});

/** Creates a product and waits until inventory, told through Kafka, has its stock row. */
async function productWithStock(initialStock?: number): Promise<{ id: string }> {
  const product = await postProduct({
    sku: `STK-${randomUUID().slice(0, 8)}-${tag}`,
    ...(initialStock === undefined ? {} : { initialStock }),
  });
  await eventually(async () => (await api('GET', `/inventory/${product.id}`)).status === 200, {
    what: `stock of ${product.id}`,
  });
  return product;
}

/** Stands in for orders holding units (the order saga's reservations are tested in test/saga). */
async function holdUnits(productId: string, units: number): Promise<void> {
  await database()`update inventory.stock set reserved = ${units} where product_id = ${productId}`;
}

describe('stock levels', () => {
  it('starts a new product with its initial stock, learned from product.created', async () => {
    const product = await productWithStock(7);
    const stock = await api('GET', `/inventory/${product.id}`);
    expect(stock.status).toBe(200);
    expect(stock.body).toEqual({ productId: product.id, onHand: 7, reserved: 0, available: 7 });
  });

  it('starts a product created without initialStock at 0', async () => {
    const product = await productWithStock();
    expect((await api('GET', `/inventory/${product.id}`)).body).toEqual({
      productId: product.id,
      onHand: 0,
      reserved: 0,
      available: 0,
    });
  });

  it('sets the units on hand (admin PUT) and shows available = onHand - reserved', async () => {
    const product = await productWithStock(3);
    await holdUnits(product.id, 2);
    const set = await api('PUT', `/inventory/${product.id}`, { admin: true, body: { onHand: 10 } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ productId: product.id, onHand: 10, reserved: 2, available: 8 });
    expect((await api('GET', `/inventory/${product.id}`)).body).toEqual(set.body);
  });

  it('refuses to set on hand below what orders hold (409), leaving the stock as it was', async () => {
    const product = await productWithStock(5);
    await holdUnits(product.id, 4);
    const refused = await api('PUT', `/inventory/${product.id}`, { admin: true, body: { onHand: 3 } });
    expectProblem(refused, 409);
    expect(refused.body.detail).toContain('4');
    expect(
      (await api('PUT', `/inventory/${product.id}`, { admin: true, body: { onHand: 4 } })).body.available,
    ).toBe(0);
    expect((await api('GET', `/inventory/${product.id}`)).body).toEqual({
      productId: product.id,
      onHand: 4,
      reserved: 4,
      available: 0,
    });
  });

  it('answers 404 for a product inventory does not know, and 400 for a malformed id', async () => {
    const unknown = randomUUID();
    expectProblem(await api('GET', `/inventory/${unknown}`), 404);
    expectProblem(await api('PUT', `/inventory/${unknown}`, { admin: true, body: { onHand: 1 } }), 404);
    const malformed = await api('GET', '/inventory/123');
    expectProblem(malformed, 400);
    expect(malformed.body.errors).toContainEqual({ path: 'path.productId', message: expect.any(String) });
  });

  it('needs the admin key to set stock and validates the body, changing nothing', async () => {
    const product = await productWithStock(6);
    const attempts: [Parameters<typeof api>[2], number][] = [
      [{ body: { onHand: 1 } }, 401],
      [{ body: { onHand: 1 }, headers: { 'x-api-key': 'wrong' } }, 403],
      [{ admin: true, body: { onHand: -1 } }, 400],
      [{ admin: true, body: { onHand: 2.5 } }, 400],
      [{ admin: true, body: { onHand: '9' } }, 400],
      [{ admin: true, body: { onHand: 1, reserved: 0 } }, 400],
      [{ admin: true, body: {} }, 400],
      [{ admin: true, raw: '{"onHand":' }, 400],
      [{ admin: true, raw: 'onHand=1', headers: { 'content-type': 'text/plain' } }, 415],
    ];
    for (const [options, status] of attempts)
      expectProblem(await api('PUT', `/inventory/${product.id}`, options), status);
    expect((await api('GET', `/inventory/${product.id}`)).body).toEqual({
      productId: product.id,
      onHand: 6,
      reserved: 0,
      available: 6,
    });
  });

  it('stops selling a deleted product: available drops to 0 and its stock can no longer be set', async () => {
    const product = await productWithStock(9);
    expect((await api('DELETE', `/products/${product.id}`, { admin: true })).status).toBe(204);
    const stock = await eventually(
      async () => {
        const response = await api('GET', `/inventory/${product.id}`);
        return response.body.available === 0 && response.body;
      },
      { what: 'deleted product unorderable' },
    );
    expect(stock).toEqual({ productId: product.id, onHand: 9, reserved: 0, available: 0 });
    const [row] = await database()`select orderable from inventory.stock where product_id = ${product.id}`;
    expect(row!.orderable).toBe(false);
    expectProblem(await api('PUT', `/inventory/${product.id}`, { admin: true, body: { onHand: 20 } }), 409);
  });

  it('ignores a redelivered product.created', async () => {
    const product = await productWithStock(2);
    await api('PUT', `/inventory/${product.id}`, { admin: true, body: { onHand: 30 } });
    const [created] = await outboxEvents(product.id, 'ProductCreated');
    expect(await invokeConsumer(created!, 1)).toEqual({ batchItemFailures: [] });
    expect((await api('GET', `/inventory/${product.id}`)).body.onHand).toBe(30);
  });

  it('keeps a product unorderable when its product.deleted arrives before its product.created', async () => {
    // The two events travel on different topics, so nothing orders them. The events are made
    // here, for a product id Kafka never carried, so the order of delivery is the test's.
    const productId = randomUUID();
    const event = (type: string, data: object) => ({
      topic: 'product.x',
      key: productId,
      payload: {
        eventId: randomUUID(),
        type,
        occurredAt: new Date().toISOString(),
        data: { productId, sku: `LATE-${tag}`, ...data },
      },
    });
    expect(await invokeConsumer(event('ProductDeleted', { price: 1, currency: 'USD', version: 2 }))).toEqual({
      batchItemFailures: [],
    });
    expect(
      await invokeConsumer(
        event('ProductCreated', { name: 'Late', price: 1, currency: 'USD', version: 1, initialStock: 4 }),
      ),
    ).toEqual({ batchItemFailures: [] });
    const [row] = await database()`select orderable from inventory.stock where product_id = ${productId}`;
    expect(row!.orderable).toBe(false);
    expect((await api('GET', `/inventory/${productId}`)).body.available).toBe(0);
  });

  it('reports a product.created with a negative initial stock as a partial batch failure and creates nothing', async () => {
    const productId = randomUUID();
    const answer = await invokeConsumer(
      {
        topic: 'product.created',
        key: productId,
        payload: {
          eventId: randomUUID(),
          type: 'ProductCreated',
          occurredAt: new Date().toISOString(),
          data: {
            productId,
            sku: `BAD-${tag}`,
            name: 'Bad',
            price: 1,
            currency: 'USD',
            version: 1,
            initialStock: -1,
          },
        },
      },
      7,
    );
    expect(answer).toEqual({
      batchItemFailures: [{ itemIdentifier: { partition: 'product.created-0', offset: 7 } }],
    });
    expectProblem(await api('GET', `/inventory/${productId}`), 404);
  });
});
