/**
 * Helpers for the catalog tests: unique names per run (the suite's files share one database),
 * admin shortcuts, and direct SQL reads for "nothing changed" checks.
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { api, requireEnv } from '../support/api.ts';

/** A token unique to this test file run, safe in skus and slugs. */
export const runTag = () => randomUUID().slice(0, 8);

export async function createCategory(
  name: string,
  slug?: string,
): Promise<{ id: string; name: string; slug: string }> {
  const response = await api('POST', '/categories', {
    admin: true,
    body: { name, ...(slug ? { slug } : {}) },
  });
  if (response.status !== 201)
    throw new Error(`creating category ${name}: ${response.status} ${response.text}`);
  return response.body;
}

/** Creates a product as the admin does, through POST /products; fails unless it answers 201. */
export async function postProduct(body: Record<string, unknown>): Promise<any> {
  const response = await api('POST', '/products', {
    admin: true,
    body: { name: 'Test product', price: 1000, ...body },
  });
  if (response.status !== 201)
    throw new Error(`creating product ${String(body.sku)}: ${response.status} ${response.text}`);
  return response.body;
}

let sql: postgres.Sql | undefined;
/** A direct connection for assertions about rows (closed by closeDb in afterAll). */
export const database = () =>
  (sql ??= postgres(requireEnv('DATABASE_URL'), { max: 2, onnotice: () => {}, transform: postgres.camel }));
export async function closeDb(): Promise<void> {
  await sql?.end();
  sql = undefined;
}

/** Counts the rows a test could have written: products/categories/outbox rows tagged with `tag`. */
export async function rowsTagged(
  tag: string,
): Promise<{ products: number; categories: number; events: number }> {
  const pattern = `%${tag}%`;
  const [row] = await database()<{ products: number; categories: number; events: number }[]>`
    select (select count(*)::int from product.products where sku ilike ${pattern} or name ilike ${pattern}) as products,
           (select count(*)::int from product.categories where slug ilike ${pattern} or name ilike ${pattern}) as categories,
           (select count(*)::int from platform.outbox where payload::text ilike ${pattern}) as events`;
  return row!;
}
