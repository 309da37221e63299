/**
 * Test data written straight into Postgres (the catalog API is another service's concern): a
 * product with its stock row, a database handle for assertions, and faults injected as row
 * triggers. Test cards are in functions/payment/decisions.ts.
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { eventually, requireEnv } from './api.ts';

let sqlClient: postgres.Sql | undefined;

/** One small pool per test file (camelCase columns, like the functions'). */
export function testDb(): postgres.Sql {
  sqlClient ??= postgres(requireEnv('DATABASE_URL'), {
    max: 3,
    transform: postgres.camel,
    onnotice: () => {},
  });
  return sqlClient;
}

export async function closeTestDb(): Promise<void> {
  await sqlClient?.end();
  sqlClient = undefined;
}

export interface ProductFixture {
  price?: number;
  currency?: string;
  onHand?: number;
  deleted?: boolean;
}

/**
 * Seeds a product by SQL, bypassing the catalog API: its catalog row, its stock row and its entry
 * in the order service's price list (as if inventory and the order service had applied its
 * product.created, and for `deleted` its product.deleted), so order and inventory tests get a
 * product without depending on the catalog service. (To create one as a user does, through
 * POST /products, see `postProduct` in test/product/support.ts.)
 */
export async function seedProduct({
  price = 1999,
  currency = 'USD',
  onHand = 10,
  deleted = false,
}: ProductFixture = {}): Promise<string> {
  const id = randomUUID();
  const sql = testDb();
  await sql`
    insert into product.products (id, sku, name, price, currency, deleted_at)
    values (${id}, ${`SKU-${id.slice(0, 8)}`}, ${`Test product ${id.slice(0, 8)}`}, ${price}, ${currency}, ${deleted ? new Date() : null})`;
  await sql`insert into inventory.stock (product_id, on_hand, orderable) values (${id}, ${onHand}, ${!deleted})`;
  await sql`
    insert into orders.product_prices (product_id, price, currency, deleted, version)
    values (${id}, ${price}, ${currency}, ${deleted}, 1)`;
  return id;
}

/** The events written to the outbox under `key` (an order or product id), type and data, oldest first. */
export async function outboxEventsOf(
  key: string,
): Promise<{ type: string; data: Record<string, unknown> }[]> {
  const rows = await testDb()<{ payload: { type: string; data: Record<string, unknown> } }[]>`
    select payload from platform.outbox where key = ${key} order by id`;
  return rows.map(({ payload }) => ({ type: payload.type, data: payload.data }));
}

/** How many times the consumer's claim is recorded (platform.processed_records): 0 or 1. */
export async function claimsOf(claim: { consumer: string; recordKey: string }): Promise<number> {
  const rows = await testDb()`
    select 1 from platform.processed_records where consumer = ${claim.consumer} and record_key = ${claim.recordKey}`;
  return rows.length;
}

export async function stockOf(productId: string): Promise<{ onHand: number; reserved: number }> {
  const [row] = await testDb()<
    { onHand: number; reserved: number }[]
  >`select on_hand, reserved from inventory.stock where product_id = ${productId}`;
  if (!row) throw new Error(`no stock row for ${productId}`);
  return row;
}

/**
 * The stock once it equals `expected`: settling a reservation trails the order's terminal status
 * by one Kafka hop. Fails with the last value seen.
 */
export async function stockSettlesAt(
  productId: string,
  expected: { onHand: number; reserved: number },
): Promise<void> {
  let last: unknown;
  try {
    await eventually(
      async () => {
        const stock = await stockOf(productId);
        last = stock;
        return stock.onHand === expected.onHand && stock.reserved === expected.reserved;
      },
      { timeoutMs: 15_000, what: `stock of ${productId}` },
    );
  } catch {
    expect(last).toEqual(expected);
  }
}

/**
 * A fault from data: a row trigger `when` (say, 'before insert') on `table` that runs `body`
 * (PL/pgSQL statements, before `return new`) in the run's throwaway database, until the function
 * it returns removes it. Tests use it to make one customer's or one product's step fail or stall.
 */
export async function injectTrigger(
  name: string,
  { when, table, body }: { when: string; table: string; body: string },
): Promise<() => Promise<void>> {
  const sql = testDb();
  await sql.unsafe(`create function public.${name}() returns trigger language plpgsql as $$
    begin
      ${body}
      return new;
    end $$`);
  await sql.unsafe(
    `create trigger ${name} ${when} on ${table} for each row execute function public.${name}()`,
  );
  return async () => {
    await sql.unsafe(`drop trigger if exists ${name} on ${table}; drop function if exists public.${name}()`);
  };
}
