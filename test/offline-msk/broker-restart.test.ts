/**
 * The offline MSK plugin survives a broker restart in the middle of a stream: it reconnects,
 * resumes from what it committed, and no record is lost, duplicated or delivered out of order.
 * Uses its own single-node broker (started with the project's provisioning code on free ports),
 * so stopping it disturbs nobody; the MSK cluster ARN is mapped to it via custom.offlineMsk.clusters.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { startLocalBroker, type KafkaHandle } from '../../infra/local/kafka.ts';
import { freePort, isPortOpen } from '../../infra/local/process.ts';
import { CLUSTER_ARN, Offline, Sink, createTopics, kafkaClient, produce, recordsOf, runId, until, writeServerlessYml } from './harness.ts';

const id = runId();
const topic = `esm-restart-${id}`;
const group = `esm-restart-group-${id}`;
const sink = new Sink();
let dataDir: string;
let port: number;
let broker: KafkaHandle | undefined;
let offline: Offline | undefined;

async function freePortPair(): Promise<number> {
  for (;;) {
    const candidate = await freePort();
    if (!(await isPortOpen('127.0.0.1', candidate + 1))) return candidate; // +1 is the controller
  }
}

async function send(from: number, count: number): Promise<void> {
  // A fresh producer each time: the broker may have restarted in between.
  const producer = kafkaClient([`127.0.0.1:${port}`]).producer();
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({ key: `k${(from + i) % 9}`, value: JSON.stringify({ key: `k${(from + i) % 9}`, seq: from + i }) }));
    for (let i = 0; i < messages.length; i += 50) await produce(producer, topic, messages.slice(i, i + 50));
  } finally {
    await producer.disconnect();
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'offline-msk-broker-'));
  port = await freePortPair();
  [broker] = await Promise.all([startLocalBroker(port, dataDir), sink.start()]);
  const admin: Admin = kafkaClient([`127.0.0.1:${port}`]).admin();
  await admin.connect();
  await createTopics(admin, { [topic]: 3 });
  await admin.disconnect();

  const yml = writeServerlessYml(
    id,
    { stream: { topic, event: { batchSize: 10, consumerGroupId: group }, extensions: { MaximumBatchingWindowInSeconds: 0 } } },
    { clusters: { [CLUSTER_ARN]: [`127.0.0.1:${port}`] } },
  );
  offline = new Offline(yml, { SINK_URL: sink.url });
  await offline.start(1);
}, 120_000);

afterAll(async () => {
  await offline?.stop();
  offline?.removeConfig();
  await broker?.stop();
  await sink.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

test('a broker restart in the middle of a stream loses nothing and breaks no order', async () => {
  // Slow the function a little so the restart lands while records are still flowing.
  sink.decide.set('stream', () => ({ sleepMs: 100 }));
  await send(0, 300);
  await until('the stream to be flowing', () => sink.callsOf('stream').length >= 3, 30_000);

  await broker!.stop();
  const deliveredWhileUp = sink.callsOf('stream').length;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  broker = await startLocalBroker(port, dataDir);
  await send(300, 300);

  const seen = () => new Set(sink.callsOf('stream').flatMap((c) => recordsOf(c).map((r) => JSON.parse(r.text).seq as number)));
  await until('all 600 records', () => seen().size >= 600, 90_000);

  const offsets = new Map<number, number[]>();
  const seqs = new Map<string, number[]>();
  for (const call of sink.callsOf('stream')) {
    for (const r of recordsOf(call)) {
      offsets.set(r.partition, [...(offsets.get(r.partition) ?? []), r.offset]);
      const { key, seq } = JSON.parse(r.text);
      seqs.set(key, [...(seqs.get(key) ?? []), seq]);
    }
  }
  // Every partition's records exactly once, in offset order; every key's records in send order.
  for (const list of offsets.values()) expect(list).toEqual(list.map((_, i) => i));
  expect([...offsets.values()].reduce((n, l) => n + l.length, 0)).toBe(600);
  for (const list of seqs.values()) expect(list).toEqual([...list].sort((a, b) => a - b));
  expect(deliveredWhileUp).toBeLessThan(60); // the restart really came mid-stream
  // And the group's commits resumed on the restarted broker: everything is committed.
  const admin = kafkaClient([`127.0.0.1:${port}`]).admin();
  await admin.connect();
  try {
    await until('all offsets committed', async () => {
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      return committed!.partitions.reduce((n, p) => n + Number(p.offset), 0) === 600;
    }, 15_000);
  } finally {
    await admin.disconnect();
  }
}, 150_000);
