/**
 * Users without a local PostgreSQL get an embedded one; force that path and run the migrations on it.
 */
import postgres from 'postgres';
import { ensurePostgres } from '../../infra/local/postgres.ts';
import { migrateDatabase } from '../../infra/cli/stack.ts';

describe('embedded PostgreSQL', () => {
  it('starts, takes the migrations, answers queries and stops', async () => {
    const server = await ensurePostgres({ database: 'shopstream_embedded_test', forceEmbedded: true });
    try {
      expect(server.embedded).toBe(true);
      const applied = await migrateDatabase(server.url);
      expect(applied).toContain('0001_platform.sql');
      expect(await migrateDatabase(server.url)).toEqual([]); // a second run applies nothing
      const sql = postgres(server.url, { max: 1 });
      const tables = await sql`select table_schema || '.' || table_name as name from information_schema.tables where table_schema in ('platform', 'product', 'inventory', 'orders', 'payment')`;
      await sql.end();
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['platform.outbox', 'product.products', 'product.product_categories', 'inventory.stock', 'orders.orders']));
    } finally {
      await server.stop();
    }
  }, 120_000);
});
