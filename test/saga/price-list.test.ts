/**
 * The order service's price list (orders.product_prices): placement prices orders from it and
 * never reads the catalog's tables. It follows product.created / updated / deleted (Kafka, the
 * onProductChanged consumer), only forward in version and with `deleted` sticky, whatever order the
 * three topics deliver in; a product it has not heard of yet is asked of the product service
 * (getProductPrices, Lambda Invoke) and the answer kept.
 */
import { randomUUID } from 'node:crypto';
import { api, eventually } from '../support/api.ts';
import { closeTestDb, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { closeDb, postProduct, runTag } from '../product/support.ts';
import { closeLambda, invokeConsumer, type OutboxEvent } from '../inventory/stock-support.ts';
import { place, settled } from './saga-helpers.ts';

afterEach(expectInvariants);
afterAll(async () => {
  closeLambda();
  await closeDb();
  await closeTestDb();
});

const tag = runTag();
const sku = (name: string) => `${name}-${tag}`;

interface Listed {
  price: number;
  currency: string;
  deleted: boolean;
  version: number;
}

async function listed(productId: string): Promise<Listed | undefined> {
  const [row] = await testDb()<Listed[]>`
    select price::int as price, currency, deleted, version::int as version
    from orders.product_prices where product_id = ${productId}`;
  return row;
}

/** The price list's entry once it has reached `version`; fails with the last one seen. */
async function listedAt(productId: string, version: number): Promise<Listed> {
  return eventually(
    async () => {
      const row = await listed(productId);
      return row && row.version >= version ? row : undefined;
    },
    { what: `price list entry of ${productId} at version ${version}` },
  );
}

describe('placement', () => {
  it('prices an order placed right after POST /products exactly', async () => {
    const product = await postProduct({ sku: sku('FRESH'), price: 1234, currency: 'EUR', initialStock: 5 });
    const order = await place([{ productId: product.id, quantity: 3 }]);
    expect(order).toMatchObject({
      items: [{ productId: product.id, quantity: 3, unitPrice: 1234 }],
      total: 3702,
      currency: 'EUR',
    });
    // Whether inventory has heard of the product by now is its own race (it may reject the order):
    // the price is the order service's, and it stays.
    expect((await api('GET', `/orders/${order.id}`)).body).toMatchObject({ total: 3702, currency: 'EUR' });
  });

  it('asks the product service about a product its price list has not heard of, and keeps the answer', async () => {
    // A catalog row whose events the order service never saw: only the Invoke API can price it.
    const id = randomUUID();
    await testDb()`
      insert into product.products (id, sku, name, price, currency, version)
      values (${id}, ${sku('UNHEARD')}, 'Unheard of', 777, 'USD', 4)`;
    await testDb()`insert into inventory.stock (product_id, on_hand) values (${id}, 5)`;
    expect(await listed(id)).toBeUndefined();

    const order = await place([{ productId: id, quantity: 2 }]);
    expect(order).toMatchObject({ items: [{ productId: id, quantity: 2, unitPrice: 777 }], total: 1554 });
    expect(await listed(id)).toEqual({ price: 777, currency: 'USD', deleted: false, version: 4 });
    expect(await settled(order.id)).toMatchObject({ status: 'COMPLETED' });
  });

  it('leaves a product the catalog does not know unpriced (0) and lets inventory reject it', async () => {
    const unknown = randomUUID();
    const order = await place([{ productId: unknown, quantity: 1 }]);
    expect(order).toMatchObject({ items: [{ productId: unknown, quantity: 1, unitPrice: 0 }], total: 0 });
    expect(await listed(unknown)).toBeUndefined();
    expect(await settled(order.id)).toMatchObject({
      status: 'REJECTED',
      failureReason: `product ${unknown} is unknown`,
    });
  });
});

describe('following the catalog', () => {
  it('applies product.created, product.updated and product.deleted; orders placed after the update get its price', async () => {
    const product = await postProduct({ sku: sku('FOLLOW'), price: 500, initialStock: 10 });
    expect(await listedAt(product.id, 1)).toEqual({
      price: 500,
      currency: 'USD',
      deleted: false,
      version: 1,
    });

    const patched = await api('PATCH', `/products/${product.id}`, { admin: true, body: { price: 800 } });
    expect(patched.status).toBe(200);
    expect(await listedAt(product.id, 2)).toEqual({
      price: 800,
      currency: 'USD',
      deleted: false,
      version: 2,
    });
    const order = await place([{ productId: product.id, quantity: 2 }]);
    expect(order).toMatchObject({
      items: [{ productId: product.id, quantity: 2, unitPrice: 800 }],
      total: 1600,
    });
    expect(await settled(order.id)).toMatchObject({ status: 'COMPLETED', total: 1600 });

    expect((await api('DELETE', `/products/${product.id}`, { admin: true })).status).toBe(204);
    expect(await listedAt(product.id, 3)).toEqual({ price: 800, currency: 'USD', deleted: true, version: 3 });
    // Inventory hears of the delete on its own (eventually consistent): once it shows, orders are refused.
    await eventually(async () => (await api('GET', `/inventory/${product.id}`)).body.available === 0, {
      what: `inventory of ${product.id} retired`,
    });
    const late = await place([{ productId: product.id, quantity: 1 }]);
    expect(await settled(late.id)).toMatchObject({
      status: 'REJECTED',
      failureReason: `product ${product.id} can no longer be ordered`,
    });
  });

  // Made here, for product ids Kafka never carried, so the order of delivery is the test's.
  const deliver = async (event: OutboxEvent) =>
    expect(await invokeConsumer(event, 0, 'onProductChanged')).toEqual({ batchItemFailures: [] });
  const productEvent = (
    productId: string,
    type: 'ProductCreated' | 'ProductUpdated' | 'ProductDeleted',
    version: number,
    price: number,
  ): OutboxEvent => ({
    topic: `product.${type.slice('Product'.length).toLowerCase()}`,
    key: productId,
    payload: {
      eventId: randomUUID(),
      type,
      occurredAt: new Date().toISOString(),
      data: {
        productId,
        sku: sku('OOO'),
        price,
        currency: 'USD',
        version,
        ...(type === 'ProductCreated' ? { name: 'Out of order', initialStock: 1 } : {}),
        ...(type === 'ProductUpdated' ? { name: 'Out of order', categoryIds: [] } : {}),
      },
    },
  });

  it('applies only a newer version, whatever order the three topics deliver in', async () => {
    const id = randomUUID();
    await deliver(productEvent(id, 'ProductUpdated', 3, 300));
    await deliver(productEvent(id, 'ProductCreated', 1, 100));
    await deliver(productEvent(id, 'ProductUpdated', 2, 200));
    expect(await listed(id)).toEqual({ price: 300, currency: 'USD', deleted: false, version: 3 });
    await deliver(productEvent(id, 'ProductUpdated', 4, 400));
    expect(await listed(id)).toEqual({ price: 400, currency: 'USD', deleted: false, version: 4 });
  });

  it('keeps a deleted product deleted: a delete delivered first is not undone by the older create', async () => {
    const id = randomUUID();
    await deliver(productEvent(id, 'ProductDeleted', 2, 250));
    await deliver(productEvent(id, 'ProductCreated', 1, 100));
    expect(await listed(id)).toEqual({ price: 250, currency: 'USD', deleted: true, version: 2 });
    // Even a snapshot claiming to be newer brings its price but not the product back.
    await deliver(productEvent(id, 'ProductUpdated', 3, 300));
    expect(await listed(id)).toEqual({ price: 300, currency: 'USD', deleted: true, version: 3 });
  });

  it('changes nothing on a redelivered record, even one redelivered after a newer event', async () => {
    const id = randomUUID();
    const created = productEvent(id, 'ProductCreated', 1, 100);
    await deliver(created);
    await deliver(productEvent(id, 'ProductUpdated', 2, 200));
    await deliver(created);
    expect(await listed(id)).toEqual({ price: 200, currency: 'USD', deleted: false, version: 2 });
    // Recorded once, under the consumer's name (the console's hop figures read it).
    const [log] = await testDb()<{ n: number }[]>`
      select count(*)::int as n from platform.processed_records
      where consumer = 'order.onProductChanged' and record_key = ${created.payload.eventId}`;
    expect(log!.n).toBe(1);
  });
});
