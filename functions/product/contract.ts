/**
 * The product service's HTTP schemas: the single source of request validation, of the types the
 * steps and store share (z.infer), and of the OpenAPI document.
 */
import { z } from 'zod';

export const MAX_PRICE = 100_000_000_000; // minor units; the column's check constraint agrees
export const MAX_STOCK = 1_000_000_000;
export const MAX_CATEGORIES_PER_PRODUCT = 50;

const trimmed = (min: number, max: number) => z.string().trim().min(min).max(max);

export const IdParams = z.strictObject({
  id: z.uuid().meta({ description: 'Resource id (UUID)', example: '3f9a7c2e-5d1b-4c8e-9f0a-1b2c3d4e5f60' }),
});

export const Slug = z
  .string()
  .max(100)
  .regex(
    /^[a-z0-9]+(-[a-z0-9]+)*$/,
    'Use lower-case letters, digits and single hyphens (e.g. "garden-tools")',
  );
export const Sku = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'Use letters, digits, ".", "_" and "-", starting with a letter or digit',
  );
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'An ISO 4217 code: three upper-case letters (e.g. "USD")');
export const Price = z
  .number()
  .int()
  .min(0)
  .max(MAX_PRICE)
  .meta({ description: 'Integer minor units (1999 with USD is 19.99 USD)' });
export const CategoryIds = z.array(z.uuid()).max(MAX_CATEGORIES_PER_PRODUCT).meta({
  description: 'Ids of existing categories; an unknown id answers 400 naming it. Duplicates count once.',
});

// ── categories ────────────────────────────────────────────────────────────────────────────────

export const Category = z.object({ id: z.uuid(), name: z.string(), slug: z.string() }).meta({
  id: 'Category',
  example: { id: '0b6f3d4e-2a1c-4f5e-8d7c-9a0b1c2d3e4f', name: 'Garden tools', slug: 'garden-tools' },
});
export type Category = z.infer<typeof Category>;

export const CategoryList = z.object({ items: z.array(Category) }).meta({
  id: 'CategoryList',
  example: {
    items: [{ id: '0b6f3d4e-2a1c-4f5e-8d7c-9a0b1c2d3e4f', name: 'Garden tools', slug: 'garden-tools' }],
  },
});

export const NewCategory = z
  .strictObject({
    name: trimmed(1, 100),
    slug: Slug.optional().meta({ description: 'Defaults to a slug of the name' }),
  })
  .meta({ id: 'NewCategory', example: { name: 'Garden tools' } });
export type NewCategory = z.infer<typeof NewCategory>;

export const CategoryChanges = z
  .strictObject({ name: trimmed(1, 100).optional(), slug: Slug.optional() })
  .refine((changes) => Object.keys(changes).length > 0, 'Send at least one of "name", "slug"')
  .meta({ id: 'CategoryChanges', example: { name: 'Garden & tools', slug: 'garden-and-tools' } });
export type CategoryChanges = z.infer<typeof CategoryChanges>;

// ── products ──────────────────────────────────────────────────────────────────────────────────

const productExample = {
  id: '3f9a7c2e-5d1b-4c8e-9f0a-1b2c3d4e5f60',
  sku: 'SPADE-01',
  name: 'Garden spade',
  description: 'Carbon steel blade, ash handle',
  price: 1999,
  currency: 'USD',
  categories: [{ id: '0b6f3d4e-2a1c-4f5e-8d7c-9a0b1c2d3e4f', name: 'Garden tools', slug: 'garden-tools' }],
  createdAt: '2026-01-01T12:00:00.000Z',
  updatedAt: '2026-01-01T12:00:00.000Z',
};

export const Product = z
  .object({
    id: z.uuid(),
    sku: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    price: z.number().int(),
    currency: z.string(),
    categories: z.array(Category),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Product', example: productExample });
export type Product = z.infer<typeof Product>;

export const ProductPage = z
  .object({
    items: z.array(Product),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the next page; null on the last page' }),
  })
  .meta({
    id: 'ProductPage',
    example: {
      items: [productExample],
      nextCursor: 'eyJhIjoiMjAyNi0wMS0wMSAxMjowMDowMCswMCIsImkiOiIzZjlhN2MyZSJ9',
    },
  });

export const NewProduct = z
  .strictObject({
    sku: Sku,
    name: trimmed(1, 200),
    description: z.string().max(5000).nullable().optional(),
    price: Price,
    currency: Currency.default('USD'),
    categoryIds: CategoryIds.default([]),
    initialStock: z
      .number()
      .int()
      .min(0)
      .max(MAX_STOCK)
      .default(0)
      .meta({ description: 'Units on hand once inventory has learned of the product' }),
  })
  .meta({
    id: 'NewProduct',
    example: {
      sku: 'SPADE-01',
      name: 'Garden spade',
      description: 'Carbon steel blade, ash handle',
      price: 1999,
      currency: 'USD',
      categoryIds: ['0b6f3d4e-2a1c-4f5e-8d7c-9a0b1c2d3e4f'],
      initialStock: 25,
    },
  });
export type NewProduct = z.infer<typeof NewProduct>;

export const ProductChanges = z
  .strictObject({
    sku: Sku.optional(),
    name: trimmed(1, 200).optional(),
    description: z.string().max(5000).nullable().optional(),
    price: Price.optional(),
    currency: Currency.optional(),
  })
  .refine(
    (changes) => Object.keys(changes).length > 0,
    'Send at least one of "sku", "name", "description", "price", "currency"',
  )
  .meta({ id: 'ProductChanges', example: { price: 1799 } });
export type ProductChanges = z.infer<typeof ProductChanges>;

export const ProductCategoriesBody = z
  .strictObject({ categoryIds: CategoryIds })
  .meta({ id: 'ProductCategories', example: { categoryIds: ['0b6f3d4e-2a1c-4f5e-8d7c-9a0b1c2d3e4f'] } });

export const ProductListQuery = z.strictObject({
  categoryId: z.uuid().optional().meta({ description: 'Only products in this category' }),
  q: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .meta({ description: 'Case-insensitive text in the name, sku or description' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .meta({ description: 'Page size, 1 to 100', example: 20 }),
  cursor: z
    .string()
    .max(500)
    .regex(/^[A-Za-z0-9_-]+$/, 'Not a cursor from this API')
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page' }),
});
export type ProductListQuery = z.infer<typeof ProductListQuery>;
