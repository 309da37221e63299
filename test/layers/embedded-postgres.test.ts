/**
 * Users without a local PostgreSQL get an embedded one; force that path and run the migrations on it.
 */
import net from 'node:net';
import postgres from 'postgres';
import { EmbeddedPostgresError, ensurePostgres } from '../../infra/local/postgres.ts';
import { migrateDatabase } from '../../infra/cli/stack.ts';
import { freePort } from '../../infra/local/process.ts';

describe('embedded PostgreSQL', () => {
  it('starts, takes the migrations, answers queries and stops', async () => {
    const server = await ensurePostgres({ database: 'shopstream_embedded_test', forceEmbedded: true });
    try {
      expect(server.embedded).toBe(true);
      const applied = await migrateDatabase(server.url);
      expect(applied).toContain('0001_platform.sql');
      expect(await migrateDatabase(server.url)).toEqual([]); // a second run applies nothing
      const sql = postgres(server.url, { max: 1 });
      const tables =
        await sql`select table_schema || '.' || table_name as name from information_schema.tables where table_schema in ('platform', 'product', 'inventory', 'orders', 'payment')`;
      await sql.end();
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining([
          'platform.outbox',
          'product.products',
          'product.product_categories',
          'inventory.stock',
          'orders.orders',
        ]),
      );
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('says what failed and what to do next when the server cannot start', async () => {
    // Something else holds the port (npm start's embedded server always takes 5433).
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, resolve));
    try {
      const starting = ensurePostgres({
        database: 'shopstream_embedded_test',
        forceEmbedded: true,
        embeddedPort: port,
      });
      await expect(starting).rejects.toThrow(EmbeddedPostgresError);
      await expect(starting).rejects.toThrow(
        new RegExp(`failed to start on port ${port}[^]*could not[^]*set DATABASE_URL`),
      );
    } finally {
      holder.close();
    }
  }, 60_000);
});
