/**
 * SQL of the product catalog (schema `product`). Rows come back as the API's shapes; Postgres
 * constraint violations become the named errors the HTTP layer maps (duplicate sku or slug → 409,
 * a category deleted under our feet → 400).
 */
import type { PendingQuery, Row } from 'postgres';
import { isPgError, PgCode, type Queryable } from '#layers/db';
import { ConflictError, ValidationError } from '#layers/errors';
import type { PageKey } from './decisions.ts';
import type { Category, CategoryChanges, Product, ProductChanges } from './contract.ts';

// ── categories ────────────────────────────────────────────────────────────────────────────────

export async function insertCategory(sql: Queryable, category: Category): Promise<Category> {
  const [row] = await sql<Category[]>`
    insert into product.categories (id, name, slug) values (${category.id}, ${category.name}, ${category.slug})
    returning id, name, slug`.catch(rethrowDuplicate('slug', category.slug));
  return row!;
}

export async function selectCategories(sql: Queryable): Promise<Category[]> {
  return sql<Category[]>`select id, name, slug from product.categories order by name, id`;
}

export async function selectCategory(sql: Queryable, id: string): Promise<Category | undefined> {
  const [row] = await sql<Category[]>`select id, name, slug from product.categories where id = ${id}`;
  return row;
}

export async function updateCategory(
  sql: Queryable,
  id: string,
  changes: CategoryChanges,
): Promise<Category | undefined> {
  const [row] = await sql<Category[]>`
    update product.categories set ${sql(changes as Record<string, string>)}, updated_at = now() where id = ${id}
    returning id, name, slug`.catch(rethrowDuplicate('slug', changes.slug));
  return row;
}

/** Deletes the category and its links to products; false when there was none. */
export async function deleteCategory(sql: Queryable, id: string): Promise<boolean> {
  const result = await sql`delete from product.categories where id = ${id}`;
  return result.count > 0;
}

/** Which of `ids` name existing categories. */
export async function existingCategoryIds(sql: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await sql<
    { id: string }[]
  >`select id from product.categories where id = any(${ids as string[]}::uuid[])`;
  return new Set(rows.map((row) => row.id));
}

// ── products ──────────────────────────────────────────────────────────────────────────────────

export interface ProductRecord {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  price: number;
  currency: string;
}

/** A product as its events describe it: its record and its version (one more per change). */
export interface VersionedRecord extends ProductRecord {
  version: number;
}

type VersionedRow = Omit<VersionedRecord, 'price' | 'version'> & { price: string; version: string };
const versioned = (row: VersionedRow): VersionedRecord => ({
  ...row,
  price: Number(row.price),
  version: Number(row.version),
});

interface ProductRow extends Row {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  price: string; // bigint arrives as text
  currency: string;
  categories: Category[];
  createdAt: Date;
  updatedAt: Date;
  sortAt: string;
}

/** A live product with its categories, plus its position in the listing order. */
const selectProducts = (sql: Queryable): PendingQuery<ProductRow[]> => sql<ProductRow[]>`
  select p.id, p.sku, p.name, p.description, p.price, p.currency, p.created_at, p.updated_at,
         to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as sort_at,
         coalesce((select json_agg(json_build_object('id', c.id, 'name', c.name, 'slug', c.slug) order by c.name, c.id)
                   from product.product_categories pc join product.categories c on c.id = pc.category_id
                   where pc.product_id = p.id), '[]'::json) as categories
  from product.products p
  where p.deleted_at is null`;

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    price: Number(row.price),
    currency: row.currency,
    categories: row.categories,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function insertProduct(sql: Queryable, product: ProductRecord): Promise<void> {
  await sql`
    insert into product.products (id, sku, name, description, price, currency)
    values (${product.id}, ${product.sku}, ${product.name}, ${product.description}, ${product.price}, ${product.currency})`.catch(
    rethrowDuplicate('sku', product.sku),
  );
}

export async function selectProduct(sql: Queryable, id: string): Promise<Product | undefined> {
  const [row] = await sql<ProductRow[]>`${selectProducts(sql)} and p.id = ${id}`;
  return row && toProduct(row);
}

export interface ProductFilter {
  categoryId?: string;
  /** An ILIKE pattern (see domain.containsPattern). */
  pattern?: string;
  after?: PageKey;
  limit: number;
}

/**
 * Up to `limit` live products after `after` in (created_at, id) order, each with its page key.
 * The key's timestamp goes in as text: typed as timestamptz, postgres.js would round it through a
 * JavaScript Date to milliseconds and the page would repeat its last row.
 */
export async function selectProductPage(
  sql: Queryable,
  filter: ProductFilter,
): Promise<{ product: Product; key: PageKey }[]> {
  const rows = await sql<ProductRow[]>`
    ${selectProducts(sql)}
    ${filter.categoryId ? sql`and exists (select 1 from product.product_categories pc where pc.product_id = p.id and pc.category_id = ${filter.categoryId})` : sql``}
    ${filter.pattern ? sql`and (p.name ilike ${filter.pattern} escape '\\' or p.sku ilike ${filter.pattern} escape '\\' or p.description ilike ${filter.pattern} escape '\\')` : sql``}
    ${filter.after ? sql`and (p.created_at, p.id) > (${filter.after.createdAt}::text::timestamptz, ${filter.after.id}::uuid)` : sql``}
    order by p.created_at, p.id
    limit ${filter.limit}`;
  return rows.map((row) => ({ product: toProduct(row), key: { createdAt: row.sortAt, id: row.id } }));
}

/** Applies `changes` to a live product and returns its new state; undefined when there is none. */
export async function updateProduct(
  sql: Queryable,
  id: string,
  changes: ProductChanges,
): Promise<VersionedRecord | undefined> {
  const [row] = await sql<VersionedRow[]>`
    update product.products set ${sql(changes as Record<string, unknown>)}, version = version + 1, updated_at = now()
    where id = ${id} and deleted_at is null
    returning id, sku, name, description, price, currency, version`.catch(
    rethrowDuplicate('sku', changes.sku),
  );
  return row && versioned(row);
}

/** Locks a live product for a change to its links (a new version); undefined when there is none. */
export async function lockProduct(sql: Queryable, id: string): Promise<VersionedRecord | undefined> {
  const [row] = await sql<VersionedRow[]>`
    update product.products set version = version + 1, updated_at = now() where id = ${id} and deleted_at is null
    returning id, sku, name, description, price, currency, version`;
  return row && versioned(row);
}

export async function replaceProductCategories(
  sql: Queryable,
  productId: string,
  categoryIds: readonly string[],
): Promise<void> {
  await sql`delete from product.product_categories where product_id = ${productId}`;
  if (!categoryIds.length) return;
  await sql`
    insert into product.product_categories (product_id, category_id)
    select ${productId}, unnest(${categoryIds as string[]}::uuid[])`.catch((error: unknown) => {
    if (isPgError(error, PgCode.foreignKeyViolation)) {
      throw new ValidationError(
        'A category was deleted while it was being linked; check "categoryIds" and retry.',
        {
          errors: [{ path: 'body.categoryIds', message: 'References a category that no longer exists' }],
          cause: error,
        },
      );
    }
    throw error;
  });
}

/** Marks a live product deleted (its sku becomes free; its last version); undefined when there was none. */
export async function softDeleteProduct(sql: Queryable, id: string): Promise<VersionedRecord | undefined> {
  const [row] = await sql<VersionedRow[]>`
    update product.products set deleted_at = now(), version = version + 1, updated_at = now()
    where id = ${id} and deleted_at is null
    returning id, sku, name, description, price, currency, version`;
  return row && versioned(row);
}

export interface PriceRow {
  productId: string;
  price: number;
  currency: string;
  deleted: boolean;
  version: number;
}

/** Prices of the given products, deleted ones included (flagged); unknown ids are left out. */
export async function selectPrices(sql: Queryable, ids: readonly string[]): Promise<PriceRow[]> {
  const rows = await sql<(Omit<PriceRow, 'price' | 'version'> & { price: string; version: string })[]>`
    select id as product_id, price, currency, deleted_at is not null as deleted, version
    from product.products where id = any(${ids as string[]}::uuid[]) order by id`;
  return rows.map((row) => ({ ...row, price: Number(row.price), version: Number(row.version) }));
}

export async function categoryIdsOf(sql: Queryable, productId: string): Promise<string[]> {
  const rows = await sql<
    { categoryId: string }[]
  >`select category_id from product.product_categories where product_id = ${productId} order by category_id`;
  return rows.map((row) => row.categoryId);
}

function rethrowDuplicate(field: 'sku' | 'slug', value: string | undefined) {
  return (error: unknown): never => {
    if (isPgError(error, PgCode.uniqueViolation)) {
      throw new ConflictError(
        `A ${field === 'sku' ? 'product' : 'category'} with ${field} "${value}" already exists.`,
        {
          errors: [{ path: `body.${field}`, message: 'Already taken' }],
          cause: error,
        },
      );
    }
    throw error;
  };
}
