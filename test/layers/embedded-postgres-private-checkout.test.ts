/**
 * As root, the embedded server runs as the user `postgres`, which may not enter a checkout that
 * sits in a private directory (`mktemp -d`, `/root`). A copy of this checkout in such a directory
 * (sources plus node_modules hard-linked, as a clone with `npm install` would be) must still get a
 * working embedded PostgreSQL, and a server directory that user cannot reach must fail fast with a
 * message that names it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../infra/local/process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;

// Started in the copy, so that everything it loads resolves from the private directory.
const START_EMBEDDED = `
import postgres from 'postgres';
import { ensurePostgres } from './infra/local/postgres.ts';

const server = await ensurePostgres({ database: 'shopstream_private_checkout', forceEmbedded: true });
try {
  const sql = postgres(server.url, { max: 1 });
  const [row] = await sql\`select current_database() as database, current_setting('server_version_num') as version\`;
  await sql.end();
  console.log('answer ' + JSON.stringify(row));
} finally {
  await server.stop();
}
`;

(isRoot ? describe : describe.skip)(
  `embedded PostgreSQL from a checkout in a mode-700 directory${isRoot ? '' : ' (skipped: only as root is the server handed to another user)'}`,
  () => {
    let privateDir: string;
    let checkout: string;

    beforeAll(() => {
      // Under .cache, on the checkout's file system, so node_modules can be hard-linked.
      mkdirSync(path.join(ROOT, '.cache'), { recursive: true });
      privateDir = mkdtempSync(path.join(ROOT, '.cache', 'private-'));
      checkout = path.join(privateDir, 'repo');
      mkdirSync(checkout);
      cpSync(path.join(ROOT, 'package.json'), path.join(checkout, 'package.json'));
      cpSync(path.join(ROOT, 'infra', 'local'), path.join(checkout, 'infra', 'local'), { recursive: true });
      execFileSync('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(checkout, 'node_modules')]);
      writeFileSync(path.join(checkout, 'start-embedded.ts'), START_EMBEDDED);
    }, 120_000);

    afterAll(() => {
      if (privateDir) rmSync(privateDir, { recursive: true, force: true });
    });

    const startEmbedded = (env: NodeJS.ProcessEnv = {}) =>
      run(process.execPath, ['--import', 'tsx', 'start-embedded.ts'], {
        cwd: checkout,
        env: { ...process.env, ...env },
      });

    it('starts the server, answers queries and leaves the directory private', async () => {
      expect(statSync(privateDir).mode & 0o777).toBe(0o700);
      const { code, output } = await startEmbedded();
      expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('answer ') });
      const answer = JSON.parse(/^answer (.*)$/m.exec(output)![1]!) as { database: string; version: string };
      expect(answer.database).toBe('shopstream_private_checkout');
      expect(answer.version).toMatch(/^17/); // the embedded PostgreSQL 17, not a machine's server
      expect(statSync(privateDir).mode & 0o777).toBe(0o700);
    }, 180_000);

    it('names the directory to fix when the server directory is out of its user’s reach', async () => {
      const serverDir = path.join(privateDir, 'server');
      const { code, output } = await startEmbedded({ SHOPSTREAM_EMBEDDED_POSTGRES_DIR: serverDir });
      expect(code).not.toBe(0);
      // The private directory, or one above it when the checkout itself sits in a private one.
      expect(output).toMatch(/that user may not enter or run \S+\./);
      const named = /that user may not enter or run (\S+)\./.exec(output)![1]!;
      expect(serverDir.startsWith(named + path.sep)).toBe(true);
      expect(statSync(named).mode & 0o001).toBe(0); // others may indeed not enter it
      expect(output).toContain('SHOPSTREAM_EMBEDDED_POSTGRES_DIR');
      expect(output).toContain('set DATABASE_URL');
      expect(output).not.toContain('EACCES');
    }, 60_000);
  },
);
