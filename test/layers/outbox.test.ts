/**
 * The transactional outbox against real Postgres and Kafka: events enqueued in a committed
 * transaction are published right away; a rolled-back transaction publishes nothing; a delayed
 * event waits for its time and then goes out through the relay.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { db } from '#layers/db';
import { disconnectProducer } from '#layers/kafka/producer';
import { ProductUpdated } from '#layers/events';
import { inTransaction, publish, publishDue } from '#layers/outbox';
import { TOPICS, topicName } from '#layers/topics';
import { eventually } from '../support/api.ts';

const received: { key: string; value: any; headers: Record<string, string> }[] = [];
let consumer: Consumer;

beforeAll(async () => {
  consumer = new Kafka({
    brokers: process.env.KAFKA_BROKERS!.split(','),
    logLevel: logLevel.NOTHING,
  }).consumer({ groupId: `outbox-test-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: topicName(TOPICS.productUpdated), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      received.push({
        key: message.key!.toString(),
        value: JSON.parse(message.value!.toString()),
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      });
    },
  });
});

afterAll(async () => {
  await consumer.disconnect();
  await disconnectProducer();
  await db().end();
});

const byKey = (key: string) => () => Promise.resolve(received.filter((m) => m.key === key));
const published = async (id: string) =>
  (await db()`select published_at from platform.outbox where id = ${id}`)[0]?.publishedAt;

/** A product.updated of product `productId` with the given price. */
const updated = (productId: string, price = 5) => ({
  productId,
  sku: 'SKU-1',
  name: 'Lamp',
  price,
  currency: 'USD',
  version: 1,
  categoryIds: [],
});

describe('outbox', () => {
  it('publishes an event of a committed transaction at once, in the envelope, with headers', async () => {
    const key = randomUUID();
    const id = await inTransaction((tx) =>
      publish(tx, ProductUpdated, updated(key), { correlationId: 'corr-1' }),
    );
    const [message] = await eventually(async () => ((await byKey(key)()).length ? byKey(key)() : undefined), {
      what: 'the event on Kafka',
    });
    expect(message!.value).toMatchObject({
      type: 'ProductUpdated',
      data: { productId: key, price: 5 },
      eventId: expect.any(String),
    });
    expect(message!.headers).toMatchObject({ 'correlation-id': 'corr-1', 'event-type': 'ProductUpdated' });
    expect(await published(id)).toBeInstanceOf(Date);
  });

  it('publishes nothing for a rolled-back transaction', async () => {
    const key = randomUUID();
    await expect(
      inTransaction(async (tx) => {
        await publish(tx, ProductUpdated, updated(key));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const [row] = await db()`select count(*)::int as count from platform.outbox where key = ${key}`;
    expect(row!.count).toBe(0);
  });

  it('holds a delayed event until it is due, then the relay publishes it', async () => {
    const key = randomUUID();
    const availableAt = new Date(Date.now() + 1500);
    const id = await inTransaction((tx) => publish(tx, ProductUpdated, updated(key, 7), { availableAt }));
    await publishDue(db());
    expect(await published(id)).toBeNull();
    const sentAt = await eventually(
      async () => {
        await publishDue(db());
        return published(id);
      },
      { what: 'the delayed row published', timeoutMs: 10_000 },
    );
    expect((sentAt as Date).getTime()).toBeGreaterThanOrEqual(availableAt.getTime() - 50);
    await eventually(async () => (await byKey(key)()).length === 1, { what: 'the delayed event on Kafka' });
  });

  it('keeps a row whose send failed unpublished, with the attempt and the error recorded; the relay publishes it later and clears the error', async () => {
    const key = randomUUID();
    // The broker refuses a record over its 1 MB message size limit, so the fast path's send fails
    // on a healthy broker.
    const id = await inTransaction((tx) =>
      publish(tx, ProductUpdated, { ...updated(key), name: 'x'.repeat(2_000_000) }),
    );
    const [failed] = await db()`select published_at, attempts, last_error from platform.outbox where id = ${id}`;
    expect(failed).toMatchObject({ publishedAt: null, lastError: expect.stringMatching(/\S/) });
    expect((failed as { attempts: number }).attempts).toBeGreaterThanOrEqual(1);

    // Repaired, the stack's relay sends it once the fast path's grace has passed.
    await db()`update platform.outbox set payload = jsonb_set(payload, '{data,name}', '"Lamp"') where id = ${id}`;
    const [sent] = await eventually(
      async () => {
        const rows = await db()`select published_at, attempts, last_error from platform.outbox where id = ${id}`;
        return rows[0]?.publishedAt ? rows : undefined;
      },
      { what: 'the repaired row published by the relay', timeoutMs: 30_000 },
    );
    expect(sent).toMatchObject({ publishedAt: expect.any(Date), lastError: null });
    await eventually(async () => (await byKey(key)()).length === 1, { what: 'the repaired event on Kafka' });
    expect((await byKey(key)())[0]!.value.data.name).toBe('Lamp');
  });
});
