/** Unit tests of the catalog's pure rules (no I/O). */
import { ConflictError, ValidationError } from '#layers/errors';
import {
  assertCategoriesExist,
  chooseSlug,
  containsPattern,
  decodeCursor,
  distinctIds,
  encodeCursor,
  slugify,
} from '../../functions/product/decisions.ts';
import { assertCanSetOnHand, toStockView } from '../../functions/inventory/decisions.ts';

describe('slugs', () => {
  it.each([
    ['Garden Tools', 'garden-tools'],
    ['  Crème Brûlée & Co. ', 'creme-brulee-co'],
    ['--A__B--', 'a-b'],
    ['100% Cotton', '100-cotton'],
    ['日本', ''],
  ])('slugify(%j) is %j', (name, slug) => expect(slugify(name)).toBe(slug));

  it('caps a slug at 100 characters without a trailing hyphen', () => {
    const slug = slugify(`${'a'.repeat(99)} b`);
    expect(slug.length).toBeLessThanOrEqual(100);
    expect(slug.endsWith('-')).toBe(false);
  });

  it('prefers the given slug and refuses a name that yields none', () => {
    expect(chooseSlug('Garden', 'my-garden')).toBe('my-garden');
    expect(() => chooseSlug('!!!', undefined)).toThrow(ValidationError);
  });
});

describe('cursors', () => {
  const key = { createdAt: '2026-01-02T03:04:05.123456Z', id: '3f9a7c2e-5d1b-4c8e-9f0a-1b2c3d4e5f60' };

  it('round-trips a page key through an opaque base64url string', () => {
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(key);
  });

  it.each([
    ['not base64 JSON', 'bm90LWpzb24'],
    ['wrong shape', Buffer.from(JSON.stringify({ x: 1 })).toString('base64url')],
    ['a bad id', encodeCursor({ ...key, id: 'nope' })],
    ['a millisecond timestamp', encodeCursor({ ...key, createdAt: '2026-01-02T03:04:05.123Z' })],
    ['an impossible date', encodeCursor({ ...key, createdAt: '2026-02-30T03:04:05.123456Z' })],
  ])('rejects %s with a 400 on query.cursor', (_what, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(
      expect.objectContaining({ status: 400, errors: [expect.objectContaining({ path: 'query.cursor' })] }),
    );
  });
});

describe('search patterns', () => {
  it('escapes LIKE wildcards and the escape character', () => {
    expect(containsPattern('50%_off\\')).toBe('%50\\%\\_off\\\\%');
  });
});

describe('category references', () => {
  it('de-duplicates ids case-insensitively, keeping order', () => {
    expect(distinctIds(['B', 'a', 'b'])).toEqual(['b', 'a']);
  });

  it('names each unknown id by its index in the request', () => {
    expect(() => assertCategoriesExist(['a', 'x', 'b', 'y'], new Set(['a', 'b']))).toThrow(
      expect.objectContaining({
        errors: [
          { path: 'body.categoryIds.1', message: 'No category with id x' },
          { path: 'body.categoryIds.3', message: 'No category with id y' },
        ],
      }),
    );
    expect(() => assertCategoriesExist(['A'], new Set(['a']))).not.toThrow();
  });
});

describe('stock levels', () => {
  const row = { productId: 'p', onHand: 10, reserved: 4, orderable: true };

  it('shows available as on hand minus reserved, and none for a deleted product', () => {
    expect(toStockView(row)).toEqual({ productId: 'p', onHand: 10, reserved: 4, available: 6 });
    expect(toStockView({ ...row, orderable: false }).available).toBe(0);
  });

  it('allows on hand down to what is reserved, never below, and never for a deleted product', () => {
    expect(() => assertCanSetOnHand(row, 4)).not.toThrow();
    expect(() => assertCanSetOnHand(row, 3)).toThrow(ConflictError);
    expect(() => assertCanSetOnHand({ ...row, orderable: false }, 20)).toThrow(ConflictError);
  });
});
