/**
 * Fault: a Kafka-triggered function times out in the middle of its transaction. The fault comes
 * from data, not code: a trigger this test installs in the run's throwaway database makes
 * onProductCreated's transaction for one new product sleep past that function's Lambda timeout
 * (read from functions/inventory/functions.yml, else the provider's), once. The transaction must roll
 * back (Postgres reports its transaction id as aborted), and the mapping's retry must do the work
 * exactly once: one stock row with the initial stock, and the product orderable.
 * The stall is keyed on an unusual initial stock, so no other test's product meets it.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { api, eventually } from '../support/api.ts';
import { closeTestDb, injectTrigger, stockSettlesAt, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { place, settled } from '../saga/saga-helpers.ts';

afterEach(expectInvariants);
afterAll(closeTestDb);

/** A function's timeout in seconds: its own `timeout:` in its yml, else the provider's. */
function functionTimeout(file: string, name: string): number {
  const block =
    new RegExp(`^${name}:\\n((?:[ \\t].*\\n|\\n)*)`, 'm').exec(readFileSync(file, 'utf8'))?.[1] ?? '';
  const own = /^ {2}timeout:\s*(\d+)/m.exec(block)?.[1];
  const provider = /^provider:[\s\S]*?^ {2}timeout:\s*(\d+)/m.exec(
    readFileSync('serverless.yml', 'utf8'),
  )?.[1];
  return Number(own ?? provider ?? 6);
}

it('an onProductCreated that times out mid-transaction rolls back; the retry does the work once', async () => {
  const stallSeconds = functionTimeout('functions/inventory/functions.yml', 'onProductCreated') + 3;
  const sql = testDb();
  const sku = `STALL-${randomUUID()}`;
  // The marker: an initial stock no other test uses.
  const initialStock = 7000 + Math.floor(Math.random() * 999);
  const name = `reliability_stall_${randomUUID().replaceAll('-', '')}`;
  // Sequences are not transactional: the stalled transaction's id survives its rollback, and the
  // sequence's is_called flag makes the stall happen once.
  await sql.unsafe(`create sequence public.${name}`);
  const removeStall = await injectTrigger(name, {
    when: 'after insert',
    table: 'inventory.stock',
    body: `if not (select is_called from public.${name}) and new.on_hand = ${initialStock} then
        perform setval('public.${name}', txid_current(), true);
        perform pg_sleep(${stallSeconds});
      end if;`,
  });
  try {
    const created = await api('POST', '/products', {
      admin: true,
      body: { sku, name: 'Stalled stock row', price: 500, initialStock },
    });
    expect(created.status).toBe(201);
    const productId = created.body.id as string;
    // The first attempt reaches the stall, then (after its timeout and a retry) the row appears.
    const stalled = await eventually(
      async () => {
        const [row] = await sql.unsafe(`select last_value::text as xid, is_called from public.${name}`);
        return row!.isCalled ? { xid: String(row!.xid) } : undefined;
      },
      { timeoutMs: 30_000, what: 'the stalled first attempt' },
    );
    await eventually(
      async () => (await sql`select 1 from inventory.stock where product_id = ${productId}`).length === 1,
      { timeoutMs: (stallSeconds + 30) * 1000, what: 'the stock row' },
    );
    // The retry has done the work; the first attempt's transaction is gone.
    let status = '';
    for (let i = 0; i < 60 && !['aborted', 'committed'].includes(status); i++) {
      status = (await sql`select txid_status(${stalled!.xid}::bigint) as status`)[0]!.status as string;
      if (status === 'in progress') await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(status).toBe('aborted');
    expect(
      await sql`select on_hand, reserved, orderable from inventory.stock where product_id = ${productId}`,
    ).toEqual([{ onHand: initialStock, reserved: 0, orderable: true }]);
    const order = await place([{ productId, quantity: 2 }]);
    expect((await settled(order.id, 60_000)).status).toBe('COMPLETED');
    await stockSettlesAt(productId, { onHand: initialStock - 2, reserved: 0 });
  } finally {
    await removeStall();
    await sql.unsafe(`drop sequence if exists public.${name}`);
  }
}, 150_000);
