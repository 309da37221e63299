import { api, expectProblem, type ApiResponse } from '../support/api.ts';
import { closeDb, createCategory, postProduct, runTag } from './support.ts';

const tag = runTag().toUpperCase();
afterAll(closeDb);

describe('GET /products', () => {
  let category: { id: string };
  let other: { id: string };
  const inCategory: string[] = [];

  beforeAll(async () => {
    category = await createCategory(`Paged ${tag}`);
    other = await createCategory(`Unpaged ${tag}`);
    // Sequential, so creation order is the listing order.
    for (let i = 0; i < 7; i++)
      inCategory.push(
        (
          await postProduct({
            sku: `PAGE-${i}-${tag}`,
            name: `Paged item ${i}`,
            categoryIds: [category.id],
          })
        ).id,
      );
    await postProduct({ sku: `OUT-${tag}`, name: 'Not paged', categoryIds: [other.id] });
  });

  it('walks a category page by page with an opaque cursor: every product once, in creation order, then nextCursor null', async () => {
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const response: ApiResponse = await api(
        'GET',
        `/products?categoryId=${category.id}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(response.status).toBe(200);
      pageSizes.push(response.body.items.length);
      seen.push(...response.body.items.map((p: { id: string }) => p.id));
      cursor = response.body.nextCursor;
      if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    } while (cursor);
    expect(pageSizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(inCategory);
  });

  it('answers an exact last page with nextCursor null', async () => {
    const response = await api('GET', `/products?categoryId=${category.id}&limit=7`);
    expect(response.body.items).toHaveLength(7);
    expect(response.body.nextCursor).toBeNull();
  });

  it('filters by category', async () => {
    const response = await api('GET', `/products?categoryId=${other.id}`);
    expect(response.body.items.map((p: { sku: string }) => p.sku)).toEqual([`OUT-${tag}`]);
    expect(response.body.items[0].categories).toEqual([expect.objectContaining({ id: other.id })]);
    expect((await api('GET', '/products?categoryId=00000000-0000-4000-8000-000000000000')).body).toEqual({
      items: [],
      nextCursor: null,
    });
  });

  it('searches name, sku and description case-insensitively, taking % and _ literally', async () => {
    const product = await postProduct({
      sku: `SRCH-${tag}`,
      name: `Brass Watering Can ${tag}`,
      description: 'Holds 5 litres: 100% brass_fittings',
    });
    const ids = async (q: string) =>
      (await api('GET', `/products?q=${encodeURIComponent(q)}`)).body.items.map((p: { id: string }) => p.id);
    expect(await ids(`watering can ${tag.toLowerCase()}`)).toEqual([product.id]);
    expect(await ids(`srch-${tag.toLowerCase()}`)).toEqual([product.id]);
    expect(await ids(`100% BRASS_FITTINGS`)).toEqual([product.id]);
    expect(await ids(`100%_brass`)).toEqual([]);
    expect(await ids(`watering ${tag}`)).toEqual([]);
  });

  it('defaults to 20 per page and combines the search with the category filter', async () => {
    const all = await api('GET', '/products');
    expect(all.status).toBe(200);
    expect(all.body.items.length).toBeLessThanOrEqual(20);
    const both = await api('GET', `/products?categoryId=${category.id}&q=item%205`);
    expect(both.body.items.map((p: { id: string }) => p.id)).toEqual([inCategory[5]]);
  });

  it('refuses bad limits, cursors and filters with 400 naming the parameter', async () => {
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'limit=2.5',
      'cursor=***',
      'cursor=bm90LWEtY3Vyc29y',
      'categoryId=nope',
      'q=',
      'sort=name',
    ]) {
      const response = await api('GET', `/products?${query}`);
      expectProblem(response, 400);
      expect(response.body.errors?.[0]?.path ?? '').toMatch(/^query\b/);
    }
  });
});
