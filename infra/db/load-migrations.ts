/** Reads infra/db/migrations/*.sql from disk (local runs; the AWS migrate function bundles them). */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Migration } from './migrate.ts';

export const MIGRATIONS_DIR = path.join(import.meta.dirname, 'migrations');

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => ({ name: file, sql: readFileSync(path.join(dir, file), 'utf8') }));
}
