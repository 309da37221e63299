/**
 * Fault: a redelivery storm. Every record of every topic of the run, from the beginning, is
 * delivered again to every consumer (re-published to its topic, same key, value and headers, as a
 * consumer group reset or a producer retry storm would). Consumers are idempotent: once they have
 * caught up, the whole database state is what it was before.
 */
import { TOPICS } from '#layers/topics';
import { eventually } from '../support/api.ts';
import { closeTestDb, seedProduct, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { everyEventConsumed, place } from '../saga/saga-helpers.ts';
import { allTerminal, kafka, prefixed, scaled } from './support.ts';

afterAll(closeTestDb);

/** A fingerprint of every business table (the consumers' processed-record log is excluded). */
async function state(): Promise<Record<string, string>> {
  const sql = testDb();
  const tables = [
    'product.products',
    'product.categories',
    'product.product_categories',
    'inventory.stock',
    'inventory.reservations',
    'inventory.closed_orders',
    'orders.orders',
    'orders.order_items',
    'orders.timeline',
    'payment.payments',
  ];
  const out: Record<string, string> = {};
  for (const table of tables) {
    const [row] = await sql.unsafe(
      `select count(*)::int as n, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as h from ${table} t`,
    );
    out[table] = `${row!.n}:${row!.h}`;
  }
  const [outbox] = await sql`select count(*)::int as n from platform.outbox`;
  out['platform.outbox'] = String(outbox!.n);
  return out;
}

/** The state once nothing is left in flight: every event in the outbox published and applied. */
async function settledState(): Promise<Record<string, string>> {
  await everyEventConsumed(90_000);
  return state();
}

it('every topic replayed from the beginning into every consumer changes nothing', async () => {
  // Some history of every kind in this file alone (earlier files of the run add theirs).
  const product = await seedProduct({ onHand: 3 });
  const orders = await Promise.all([
    ...Array.from({ length: scaled(4) }, () => place([{ productId: product, quantity: 1 }])),
    place([{ productId: product, quantity: 1 }], '4000000000000002'),
    place([{ productId: product, quantity: 1 }], '4000000000000036'),
  ]);
  await allTerminal(
    orders.map((o) => o.id),
    90_000,
  );
  const before = await settledState();

  const client = kafka();
  const admin = client.admin();
  const producer = client.producer();
  await Promise.all([admin.connect(), producer.connect()]);
  const topics = Object.values(TOPICS).map(prefixed);
  let copied = 0;
  try {
    const ends = new Map<string, { partition: number; high: number }[]>();
    for (const topic of topics)
      ends.set(
        topic,
        (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, high: Number(p.high) })),
      );
    // Read each topic's history up to its current end, and append it again, partition by partition.
    const reader = client.consumer({ groupId: `reliability-storm-${Date.now()}` });
    await reader.connect();
    const wanted = [...ends.values()].flat().reduce((n, p) => n + p.high, 0);
    const history: {
      topic: string;
      partition: number;
      key: Buffer | null;
      value: Buffer | null;
      headers: Record<string, unknown>;
    }[] = [];
    try {
      await reader.subscribe({ topics, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ topic, partition, message }) => {
          const end = ends.get(topic)!.find((p) => p.partition === partition)!.high;
          if (Number(message.offset) < end)
            history.push({
              topic,
              partition,
              key: message.key,
              value: message.value,
              headers: message.headers ?? {},
            });
        },
      });
      await eventually(async () => history.length >= wanted, {
        timeoutMs: 60_000,
        what: `${wanted} records read back`,
      });
    } finally {
      await reader.disconnect();
    }
    for (let i = 0; i < history.length; i += 200) {
      const slice = history.slice(i, i + 200);
      await producer.sendBatch({
        topicMessages: slice.map((r) => ({
          topic: r.topic,
          messages: [{ partition: r.partition, key: r.key, value: r.value, headers: r.headers as never }],
        })),
      });
    }
    copied = history.length;

    // Caught up: every live consumer group of these topics (the stack's event source mappings) has
    // committed up to the new ends. A group with no members is a reader another test file left
    // behind (the outbox test's, say): it consumes nothing any more and is not waited for.
    const newEnds = new Map<string, number>();
    for (const topic of topics)
      for (const p of await admin.fetchTopicOffsets(topic))
        newEnds.set(`${topic}:${p.partition}`, Number(p.high));
    const listed = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => !g.startsWith('reliability-'));
    const groups = (await admin.describeGroups(listed)).groups
      .filter((g) => g.members.length > 0)
      .map((g) => g.groupId);
    await eventually(
      async () => {
        let lagging = 0;
        let consumers = 0;
        for (const groupId of groups) {
          const offsets = await admin.fetchOffsets({ groupId, topics });
          const ours = offsets.filter((t) => t.partitions.some((p) => Number(p.offset) >= 0));
          if (!ours.length) continue;
          consumers += 1;
          for (const t of ours)
            for (const p of t.partitions)
              if (Math.max(Number(p.offset), 0) < newEnds.get(`${t.topic}:${p.partition}`)!) lagging += 1;
        }
        return consumers > 0 && lagging === 0;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: 'every consumer caught up with the storm' },
    );
  } finally {
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  }
  // At least each order's order.placed and stock.reserved or stock.rejected, and the product's product.created.
  expect(copied).toBeGreaterThanOrEqual(orders.length * 2 + 1);
  expect(await settledState()).toEqual(before);
  await expectInvariants();
}, 300_000);
