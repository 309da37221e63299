/**
 * `npx tsx bench/round-trips.ts`: how many round trips reserveStock and settleReservation take
 * for a record, counted on the wire. The app's code (bench/reserve-driver.ts reserveOnce and
 * applyOnce, as the Kafka consumer runs it) talks to Postgres through a TCP proxy that counts the client's
 * bursts (a burst: what the client sends before the server answers) and names the protocol
 * messages in each. Statements are counted on their second run, once postgres.js has prepared
 * them (the first run of a statement adds a describe round trip). Uses a throwaway database.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import postgres from 'postgres';
import { migrateDatabase } from '../infra/cli/stack.ts';
import { createDatabase, dropDatabase, ensurePostgres, withDatabase } from '../infra/local/postgres.ts';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

const MESSAGES: Record<string, string> = {
  P: 'Parse',
  B: 'Bind',
  D: 'Describe',
  E: 'Execute',
  S: 'Sync',
  H: 'Flush',
};

/** Frontend message names (protocol 3); a simple query shows its first words. */
function messages(chunk: Buffer): string[] {
  const names: string[] = [];
  for (let at = 0; at + 5 <= chunk.length; at += 1 + chunk.readInt32BE(at + 1)) {
    const type = String.fromCharCode(chunk[at]!);
    const text =
      type === 'Q'
        ? `Query(${chunk
            .subarray(at + 5, at + 25)
            .toString()
            .trim()})`
        : undefined;
    names.push(text ?? MESSAGES[type] ?? type);
  }
  return names;
}

function countingProxy(target: URL) {
  const bursts: string[][] = [];
  let serverSpokeLast = true;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    let startup = true;
    client.on('data', (chunk) => {
      upstream.write(chunk);
      if (startup) return void (startup = false);
      if (serverSpokeLast) bursts.push([]);
      bursts.at(-1)!.push(...messages(chunk));
      serverSpokeLast = false;
    });
    upstream.on('data', (chunk) => {
      client.write(chunk);
      serverSpokeLast = true;
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return { server, bursts };
}

const pg = await ensurePostgres({ database: 'postgres' });
const database = `shopstream_round_trips_${Date.now().toString(36)}`;
const url = withDatabase(pg.url, database);
await createDatabase(pg.adminUrl, database);
try {
  await migrateDatabase(url);
  const seed = postgres(url, { max: 1, onnotice: () => {} });
  const products = [randomUUID(), randomUUID()];
  for (const id of products) {
    await seed`insert into product.products (id, sku, name, price, currency) values (${id}, ${id.slice(0, 8)}, 'round trips', 100, 'USD')`;
    await seed`insert into inventory.stock (product_id, on_hand) values (${id}, 100)`;
  }
  await seed.end();

  const proxy = countingProxy(new URL(url));
  await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(url);
  proxied.host = `127.0.0.1:${(proxy.server.address() as net.AddressInfo).port}`;
  // The app's own pool (db()), as the functions use it.
  process.env.DATABASE_URL = proxied.toString();
  process.env.DB_POOL_MAX = '1';
  const { db } = await import('#layers/db');
  const { reserveOnce } = await import('./reserve-driver.ts');
  const { settleReservationAlone } = await import('../functions/inventory/steps.ts');
  const sql = db();
  const items = products.map((productId, i) => ({ productId, quantity: i + 1 }));
  const cases = {
    'reserveStock, reserved': (orderId: string) => reserveOnce(sql, randomUUID(), { orderId, items }),
    // What the handler does (functions/inventory/settleReservation.ts): one statement, claim included.
    'settleReservation, committed': (orderId: string) =>
      settleReservationAlone(
        { consumer: 'inventory.settleReservation', recordKey: randomUUID() },
        { type: 'OrderCompleted', data: { orderId, paymentId: randomUUID() } },
      ),
    'reserveStock, rejected': () =>
      reserveOnce(sql, randomUUID(), {
        orderId: randomUUID(),
        items: [{ productId: products[0]!, quantity: 1000 }],
      }),
  };
  for (const round of ['prepare', 'count']) {
    const orderId = randomUUID();
    for (const [name, run] of Object.entries(cases)) {
      proxy.bursts.length = 0;
      await run(orderId);
      if (round === 'count')
        console.log(
          `${name}: ${proxy.bursts.length} round trips: ${proxy.bursts.map((b) => b.join(' ')).join(' | ')}`,
        );
    }
  }
  await sql.end();
  proxy.server.close();
} finally {
  await dropDatabase(pg.adminUrl, database);
  await pg.stop();
}
