import { api, expectProblem } from '../support/api.ts';
import { closeDb, createCategory, postProduct, database, runTag } from './support.ts';

const tag = runTag().toUpperCase();
const sku = (name: string) => `${name}-${tag}`;
afterAll(closeDb);

describe('products', () => {
  it('creates a product with categories (201) and reads it back; money is integer minor units with a currency', async () => {
    const tools = await createCategory(`Tools ${tag}`);
    const garden = await createCategory(`Garden ${tag}`);
    const created = await api('POST', '/products', {
      admin: true,
      body: {
        sku: sku('SPADE'),
        name: 'Garden spade',
        description: 'Ash handle',
        price: 1999,
        currency: 'EUR',
        categoryIds: [tools.id, garden.id, tools.id],
        initialStock: 5,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      sku: sku('SPADE'),
      name: 'Garden spade',
      description: 'Ash handle',
      price: 1999,
      currency: 'EUR',
      categories: expect.arrayContaining([tools, garden]),
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      updatedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(created.body.categories).toHaveLength(2);

    const read = await api('GET', `/products/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it('defaults currency to USD, description to null and categories to none', async () => {
    const product = await postProduct({ sku: sku('PLAIN') });
    expect(product).toMatchObject({ currency: 'USD', description: null, categories: [] });
  });

  it('publishes product.created with the initial stock (default 0) in the outbox, in the same transaction', async () => {
    const withStock = await postProduct({ sku: sku('EVT1'), initialStock: 12 });
    const withoutStock = await postProduct({ sku: sku('EVT2') });
    const events = await database()<
      { key: string; payload: { type: string; data: Record<string, unknown> } }[]
    >`
      select key, payload from platform.outbox where key in (${withStock.id}, ${withoutStock.id}) order by id`;
    expect(events.map((e) => [e.key, e.payload.type, e.payload.data.initialStock])).toEqual([
      [withStock.id, 'ProductCreated', 12],
      [withoutStock.id, 'ProductCreated', 0],
    ]);
    expect(events[0]!.payload.data).toEqual({
      productId: withStock.id,
      sku: sku('EVT1'),
      name: 'Test product',
      price: 1000,
      currency: 'USD',
      version: 1,
      initialStock: 12,
    });
  });

  it('answers 409 for a duplicate sku and 400 naming unknown category ids, writing nothing', async () => {
    await postProduct({ sku: sku('DUP') });
    const duplicate = await api('POST', '/products', {
      admin: true,
      body: { sku: sku('DUP'), name: 'Again', price: 1 },
    });
    expectProblem(duplicate, 409);
    expect(duplicate.body.detail).toContain(sku('DUP'));

    const known = await createCategory(`Known ${tag}`);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const badCategory = await api('POST', '/products', {
      admin: true,
      body: { sku: sku('BADCAT'), name: 'x', price: 1, categoryIds: [known.id, unknown] },
    });
    expectProblem(badCategory, 400);
    expect(badCategory.body.errors).toEqual([
      { path: 'body.categoryIds.1', message: `No category with id ${unknown}` },
    ]);
    const [row] =
      await database()`select count(*)::int as n from product.products where sku = ${sku('BADCAT')}`;
    expect(row!.n).toBe(0);
  });

  it('updates fields partially (PATCH), clears the description with null, and announces product.updated', async () => {
    const product = await postProduct({ sku: sku('PATCH'), description: 'old', price: 500 });
    const patched = await api('PATCH', `/products/${product.id}`, {
      admin: true,
      body: { price: 450, description: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      id: product.id,
      sku: sku('PATCH'),
      name: product.name,
      price: 450,
      description: null,
      currency: 'USD',
    });
    expect(Date.parse(patched.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(product.updatedAt));
    expect((await api('GET', `/products/${product.id}`)).body).toEqual(patched.body);

    const [event] = await database()<{ payload: { type: string; data: Record<string, unknown> } }[]>`
      select payload from platform.outbox where key = ${product.id} and payload->>'type' = 'ProductUpdated'`;
    expect(event!.payload.data).toMatchObject({ productId: product.id, price: 450, version: 2 });
  });

  it('answers 409 when PATCH takes another live product’s sku, and 404 for an unknown product', async () => {
    const a = await postProduct({ sku: sku('SKUA') });
    await postProduct({ sku: sku('SKUB') });
    expectProblem(await api('PATCH', `/products/${a.id}`, { admin: true, body: { sku: sku('SKUB') } }), 409);
    expect((await api('GET', `/products/${a.id}`)).body.sku).toBe(sku('SKUA'));
    expectProblem(
      await api('PATCH', '/products/00000000-0000-4000-8000-000000000000', {
        admin: true,
        body: { price: 1 },
      }),
      404,
    );
  });

  it('replaces a product’s categories with PUT /products/{id}/categories', async () => {
    const a = await createCategory(`Set A ${tag}`);
    const b = await createCategory(`Set B ${tag}`);
    const product = await postProduct({ sku: sku('CATS'), categoryIds: [a.id] });

    const replaced = await api('PUT', `/products/${product.id}/categories`, {
      admin: true,
      body: { categoryIds: [b.id] },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.categories).toEqual([b]);

    const cleared = await api('PUT', `/products/${product.id}/categories`, {
      admin: true,
      body: { categoryIds: [] },
    });
    expect(cleared.body.categories).toEqual([]);

    const unknown = await api('PUT', `/products/${product.id}/categories`, {
      admin: true,
      body: { categoryIds: [a.id, '00000000-0000-4000-8000-000000000001'] },
    });
    expectProblem(unknown, 400);
    expect((await api('GET', `/products/${product.id}`)).body.categories).toEqual([]);
    expectProblem(
      await api('PUT', '/products/00000000-0000-4000-8000-000000000000/categories', {
        admin: true,
        body: { categoryIds: [] },
      }),
      404,
    );
  });

  it('deleting a category removes it from its products', async () => {
    const category = await createCategory(`Fleeting ${tag}`);
    const product = await postProduct({ sku: sku('FLEET'), categoryIds: [category.id] });
    expect((await api('DELETE', `/categories/${category.id}`, { admin: true })).status).toBe(204);
    expect((await api('GET', `/products/${product.id}`)).body.categories).toEqual([]);
  });

  it('deletes a product (204): it is 404 afterwards, leaves the lists, announces product.deleted and frees its sku', async () => {
    const category = await createCategory(`Deleting ${tag}`);
    const product = await postProduct({ sku: sku('GONE'), categoryIds: [category.id] });
    const deleted = await api('DELETE', `/products/${product.id}`, { admin: true });
    expect(deleted.status).toBe(204);

    expectProblem(await api('GET', `/products/${product.id}`), 404);
    expectProblem(await api('PATCH', `/products/${product.id}`, { admin: true, body: { price: 1 } }), 404);
    expectProblem(
      await api('PUT', `/products/${product.id}/categories`, { admin: true, body: { categoryIds: [] } }),
      404,
    );
    expectProblem(await api('DELETE', `/products/${product.id}`, { admin: true }), 404);
    expect((await api('GET', `/products?categoryId=${category.id}`)).body.items).toEqual([]);
    expect((await api('GET', `/products?q=${sku('GONE')}`)).body.items).toEqual([]);

    const [event] = await database()<{ payload: { type: string; data: unknown } }[]>`
      select payload from platform.outbox where key = ${product.id} and payload->>'type' = 'ProductDeleted'`;
    // The last state, so a consumer that heard nothing before still learns the price and version.
    expect(event!.payload.data).toEqual({
      productId: product.id,
      sku: sku('GONE'),
      price: 1000,
      currency: 'USD',
      version: 2,
    });

    const reused = await postProduct({ sku: sku('GONE') });
    expect(reused.id).not.toBe(product.id);
  });

  it('needs the admin key for every product write: 401 without, 403 with a wrong one, and nothing changes', async () => {
    const product = await postProduct({ sku: sku('GUARD') });
    const cases = [
      ['POST', '/products', { sku: sku('SNEAK'), name: 'x', price: 1 }],
      ['PATCH', `/products/${product.id}`, { price: 1 }],
      ['PUT', `/products/${product.id}/categories`, { categoryIds: [] }],
      ['DELETE', `/products/${product.id}`, undefined],
    ] as const;
    for (const [method, path, body] of cases) {
      expectProblem(await api(method, path, { body }), 401);
      expectProblem(await api(method, path, { body, headers: { 'x-api-key': 'not-the-key' } }), 403);
    }
    expect((await api('GET', `/products/${product.id}`)).body).toEqual(product);
    expect((await api('GET', `/products?q=${sku('SNEAK')}`)).body.items).toEqual([]);
  });

  it('lets exactly one of ten concurrent creates with the same sku win; the rest get 409', async () => {
    // Warm ten instances first (an empty body is refused before any I/O): the race is about
    // the database, and ten simultaneous cold starts on a busy 2-core machine can exceed the
    // function's timeout.
    const warmUps = await Promise.all(
      Array.from({ length: 10 }, () => api('POST', '/products', { admin: true, body: {} })),
    );
    expect(warmUps.map((r) => r.status)).toEqual(Array(10).fill(400));
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api('POST', '/products', {
          admin: true,
          body: { sku: sku('RACE'), name: `Racer ${i}`, price: 100 + i },
        }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array(9).fill(409)]);
    for (const loser of responses.filter((r) => r.status === 409)) expectProblem(loser, 409);
    const rows =
      await database()`select id from product.products where sku = ${sku('RACE')} and deleted_at is null`;
    expect(rows).toHaveLength(1);
    const events =
      await database()`select 1 from platform.outbox where payload->'data'->>'sku' = ${sku('RACE')}`;
    expect(events).toHaveLength(1);
  });
});
