/**
 * Applies the plain SQL migrations in infra/db/migrations in file-name order and records what ran
 * (with a checksum) in public.shopstream_migrations. All pending files apply in one transaction
 * under an advisory lock, so several processes may start at once. Used by `npm start`, `npm test`
 * and the `migrate` Lambda function on AWS.
 */
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';

export interface Migration {
  name: string;
  sql: string;
}

const LOCK_ID = 7_201_155; // any constant shared by every migrator of this database

export async function migrate(sql: Sql, migrations: Migration[]): Promise<string[]> {
  const ordered = [...migrations].sort((a, b) => a.name.localeCompare(b.name));
  const applied: string[] = [];
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_ID})`;
    await tx`create table if not exists public.shopstream_migrations (
      name text primary key, checksum text not null, applied_at timestamptz not null default now())`;
    const done = new Map((await tx<{ name: string; checksum: string }[]>`select name, checksum from public.shopstream_migrations`).map((r) => [r.name, r.checksum]));
    for (const migration of ordered) {
      const checksum = createHash('sha256').update(migration.sql).digest('hex');
      const previous = done.get(migration.name);
      if (previous === checksum) continue;
      if (previous) {
        throw new Error(`Migration ${migration.name} changed after it was applied. Add a new migration file instead of editing an applied one.`);
      }
      await tx.unsafe(migration.sql);
      await tx`insert into public.shopstream_migrations (name, checksum) values (${migration.name}, ${checksum})`;
      applied.push(migration.name);
    }
  });
  return applied;
}
