/**
 * Malformed requests to the catalog: each answers a 4xx problem+json (with the failing field's
 * path where there is one) and changes nothing.
 */
import { api, expectProblem } from '../support/api.ts';
import { closeDb, createCategory, postProduct, rowsTagged, runTag } from './support.ts';

const tag = runTag().toUpperCase();
const valid = { sku: `MAL-${tag}`, name: `Malformed ${tag}`, price: 1999 };
afterAll(closeDb);

type Case = [
  what: string,
  method: string,
  path: (id: string) => string,
  options: Parameters<typeof api>[2],
  status: number,
  errorPath?: string,
];

const products = () => '/products';
const product = (id: string) => `/products/${id}`;
const cats = (id: string) => `/products/${id}/categories`;

const cases: Case[] = [
  ['truncated JSON', 'POST', products, { raw: '{"sku": "X",' }, 400],
  ['an empty body', 'POST', products, { raw: '', headers: { 'content-type': 'application/json' } }, 400],
  ['JSON null', 'POST', products, { raw: 'null' }, 400],
  ['a JSON array', 'POST', products, { body: [valid] }, 400],
  [
    'a text/plain body',
    'POST',
    products,
    { raw: JSON.stringify(valid), headers: { 'content-type': 'text/plain' } },
    415,
  ],
  [
    'a form-encoded body',
    'POST',
    products,
    {
      raw: `sku=MAL-${tag}&name=x&price=1`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
    415,
  ],
  ['a body over 64 KiB', 'POST', products, { body: { ...valid, description: 'x'.repeat(70_000) } }, 413],
  ['price as a string', 'POST', products, { body: { ...valid, price: '19.99' } }, 400, 'body.price'],
  ['a negative price', 'POST', products, { body: { ...valid, price: -1 } }, 400, 'body.price'],
  ['a fractional price', 'POST', products, { body: { ...valid, price: 19.99 } }, 400, 'body.price'],
  ['an absurd price', 'POST', products, { body: { ...valid, price: 1e15 } }, 400, 'body.price'],
  ['an unknown field', 'POST', products, { body: { ...valid, colour: 'red' } }, 400, 'body'],
  ['no sku', 'POST', products, { body: { name: valid.name, price: 1 } }, 400, 'body.sku'],
  ['no name', 'POST', products, { body: { sku: valid.sku, price: 1 } }, 400, 'body.name'],
  ['no price', 'POST', products, { body: { sku: valid.sku, name: valid.name } }, 400, 'body.price'],
  [
    'a 65-character sku',
    'POST',
    products,
    { body: { ...valid, sku: `${tag}${'S'.repeat(65)}` } },
    400,
    'body.sku',
  ],
  ['a sku with spaces', 'POST', products, { body: { ...valid, sku: `MAL ${tag}` } }, 400, 'body.sku'],
  ['a blank name', 'POST', products, { body: { ...valid, name: '   ' } }, 400, 'body.name'],
  [
    'a 201-character name',
    'POST',
    products,
    { body: { ...valid, name: `${tag}${'n'.repeat(201)}` } },
    400,
    'body.name',
  ],
  [
    'a 5001-character description',
    'POST',
    products,
    { body: { ...valid, description: 'd'.repeat(5001) } },
    400,
    'body.description',
  ],
  ['a lower-case currency', 'POST', products, { body: { ...valid, currency: 'usd' } }, 400, 'body.currency'],
  ['a two-letter currency', 'POST', products, { body: { ...valid, currency: 'US' } }, 400, 'body.currency'],
  [
    'categoryIds that are not UUIDs',
    'POST',
    products,
    { body: { ...valid, categoryIds: ['garden'] } },
    400,
    'body.categoryIds.0',
  ],
  [
    'categoryIds that are not an array',
    'POST',
    products,
    { body: { ...valid, categoryIds: '0b6f3d4e-2a1c-4f5e-8d7c-9a0b1c2d3e4f' } },
    400,
    'body.categoryIds',
  ],
  [
    'a negative initialStock',
    'POST',
    products,
    { body: { ...valid, initialStock: -5 } },
    400,
    'body.initialStock',
  ],
  [
    'a fractional initialStock',
    'POST',
    products,
    { body: { ...valid, initialStock: 1.5 } },
    400,
    'body.initialStock',
  ],
  [
    'a category slug with capitals',
    'POST',
    () => '/categories',
    { body: { name: `Cat ${tag}`, slug: `Cat-${tag}` } },
    400,
    'body.slug',
  ],
  [
    'a category name that is a number',
    'POST',
    () => '/categories',
    { body: { name: 42, slug: `cat-${tag.toLowerCase()}` } },
    400,
    'body.name',
  ],
  [
    'a category with an unknown field',
    'POST',
    () => '/categories',
    { body: { name: `Cat ${tag}`, parent: 'x' } },
    400,
    'body',
  ],
  ['an empty PATCH', 'PATCH', product, { body: {} }, 400, 'body'],
  ['a PATCH setting price to null', 'PATCH', product, { body: { price: null } }, 400, 'body.price'],
  [
    'a PATCH with an unknown field',
    'PATCH',
    product,
    { body: { name: `Renamed ${tag}`, stock: 3 } },
    400,
    'body',
  ],
  ['a PATCH with a bad sku', 'PATCH', product, { body: { sku: '' } }, 400, 'body.sku'],
  ['a PATCH to a malformed id', 'PATCH', () => '/products/12345', { body: { price: 1 } }, 400, 'path.id'],
  ['a DELETE of a malformed id', 'DELETE', () => '/products/not-a-uuid', {}, 400, 'path.id'],
  ['a GET of a malformed id', 'GET', () => `/products/${'f'.repeat(36)}`, {}, 400, 'path.id'],
  ['categories without categoryIds', 'PUT', cats, { body: {} }, 400, 'body.categoryIds'],
  [
    'more than 50 categoryIds',
    'PUT',
    cats,
    { body: { categoryIds: Array.from({ length: 51 }, () => crypto.randomUUID()) } },
    400,
    'body.categoryIds',
  ],
  ['categoryIds null', 'PUT', cats, { body: { categoryIds: null } }, 400, 'body.categoryIds'],
];

describe('malformed catalog requests', () => {
  let target: any;
  let before: Awaited<ReturnType<typeof rowsTagged>>;

  beforeAll(async () => {
    const category = await createCategory(`Target ${tag}`);
    target = await postProduct({ sku: `TARGET-${tag}`, name: `Target ${tag}`, categoryIds: [category.id] });
    before = await rowsTagged(tag);
  });

  it(`has at least 20 cases (${cases.length})`, () => expect(cases.length).toBeGreaterThanOrEqual(20));

  it.each(cases)('refuses %s (%s) with a problem and changes nothing', async (...row) => {
    // A rest parameter: jest would pass `done` to a sixth named parameter on rows without an error path.
    const [, method, path, options, status, errorPath] = row as Case;
    const response = await api(method, path(target.id), { admin: true, ...options });
    expectProblem(response, status);
    if (errorPath) expect(response.body.errors?.map((e: { path: string }) => e.path)).toContain(errorPath);
    expect(await rowsTagged(tag)).toEqual(before);
    expect((await api('GET', `/products/${target.id}`)).body).toEqual(target);
  });
});
