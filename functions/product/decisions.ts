/**
 * Catalog rules as plain functions (no I/O): slugs, pagination cursors, search patterns and the
 * checks on category references. store.ts and steps.ts build on them.
 */
import { ValidationError, type FieldError } from '#layers/errors';

/** "Garden Tools & Más!" → "garden-tools-mas". Empty when the name has no letters or digits. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100)
    .replace(/-+$/, '');
}

/** The slug to store: the given one, or one derived from the name (which must yield one). */
export function chooseSlug(name: string, slug: string | undefined): string {
  if (slug) return slug;
  const derived = slugify(name);
  if (!derived) {
    throw new ValidationError('Cannot derive a slug from this name; send a "slug".', {
      errors: [{ path: 'body.slug', message: 'Required when the name has no letters or digits' }],
    });
  }
  return derived;
}

/** A position in the catalog's (created_at, id) order. `createdAt` keeps Postgres' microseconds. */
export interface PageKey {
  createdAt: string;
  id: string;
}

/** Opaque to clients: base64url of the last item's sort key. */
export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify({ a: key.createdAt, i: key.id })).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** store.ts renders created_at as UTC ISO 8601 with microseconds (Postgres' precision). */
const UTC_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function isUtcMicros(text: string): boolean {
  const ms = Date.parse(text);
  // The round trip rejects dates JavaScript would roll over (Feb 30) but Postgres refuses.
  return (
    UTC_MICROS.test(text) &&
    !Number.isNaN(ms) &&
    new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19)
  );
}

export function decodeCursor(cursor: string): PageKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const { a, i } = (parsed ?? {}) as { a?: unknown; i?: unknown };
  if (typeof a !== 'string' || typeof i !== 'string' || !isUtcMicros(a) || !UUID.test(i)) {
    throw new ValidationError('The cursor is not one this API handed out; start again without it.', {
      errors: [{ path: 'query.cursor', message: 'Not a cursor from this API' }],
    });
  }
  return { createdAt: a, id: i };
}

/** A case-insensitive "contains" pattern for ILIKE … ESCAPE '\', with the user's wildcards taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/** Category ids without repeats, in the order given. */
export function distinctIds(ids: readonly string[]): string[] {
  return [...new Set(ids.map((id) => id.toLowerCase()))];
}

/** Rejects references to categories that do not exist, naming each offending array index. */
export function assertCategoriesExist(requested: readonly string[], existing: ReadonlySet<string>): void {
  const errors: FieldError[] = [];
  requested.forEach((id, index) => {
    if (!existing.has(id.toLowerCase()))
      errors.push({ path: `body.categoryIds.${index}`, message: `No category with id ${id}` });
  });
  if (errors.length) {
    throw new ValidationError(
      `Unknown category id${errors.length > 1 ? 's' : ''}: ${errors.map((e) => e.message.slice('No category with id '.length)).join(', ')}.`,
      { errors },
    );
  }
}
