/**
 * The offline MSK plugin against the real broker: one serverless-offline child process with a
 * function per behaviour, each on its own topics (random suffix), invoked through the plugin.
 * The fixture handler reports every event to this test's sink and does what the sink says.
 */
import type { Admin, Kafka, Producer } from 'kafkajs';
import {
  CLUSTER_ARN, Offline, Sink, createTopics, delivered, kafkaClient, produce, readTopic, recordsOf, runId, until, writeServerlessYml,
  type FunctionSpec,
} from './harness.ts';

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const id = runId();
const t = (name: string) => `esm-${name}-${id}`;
const TOPICS = {
  shape: 2, size: 1, window: 1, order: 3, retry: 2, dlq: 1, 'dlq-out': 1, bisect: 1, 'bisect-out': 1,
  partial: 1, filter: 1, latest: 1, ts: 1, trim: 1, slow: 1, disabled: 1, age: 1, 'age-out': 1,
} as const;
const nowSeconds = Math.floor(Date.now() / 1000);
const FILTER_GROUP = `esm-filter-group-${id}`;

const FUNCTIONS: Record<string, FunctionSpec> = {
  shape: { topic: t('shape'), event: { batchSize: 10, maximumBatchingWindow: 1 } },
  // A window far longer than any wait of this file: a full batch that waited for it would never arrive.
  size: { topic: t('size'), event: { batchSize: 5, maximumBatchingWindow: 300 } },
  window: { topic: t('window'), event: { batchSize: 100, maximumBatchingWindow: 2 } },
  order: { topic: t('order'), event: { batchSize: 7, maximumBatchingWindow: 1 } },
  retry: { kind: 'kafka', topic: t('retry'), event: { batchSize: 10, maximumBatchingWindow: 1 } },
  dlq: {
    topic: t('dlq'),
    event: { batchSize: 10, maximumBatchingWindow: 1 },
    extensions: { MaximumRetryAttempts: 1, DestinationConfig: { OnFailure: { Destination: `kafka://${t('dlq-out')}` } } },
  },
  bisect: {
    topic: t('bisect'),
    event: { batchSize: 10, maximumBatchingWindow: 1 },
    extensions: { BisectBatchOnFunctionError: true, MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: `kafka://${t('bisect-out')}` } } },
  },
  // The retry count is no limit (AWS's maximum); the record age (short here, AWS's minimum is 60 s) is.
  age: {
    topic: t('age'),
    event: { batchSize: 10, maximumBatchingWindow: 1 },
    extensions: {
      MaximumRetryAttempts: 10000,
      MaximumRecordAgeInSeconds: 4,
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: `kafka://${t('age-out')}` } },
    },
  },
  partial: { topic: t('partial'), event: { batchSize: 10, maximumBatchingWindow: 1 }, extensions: { FunctionResponseTypes: ['ReportBatchItemFailures'] } },
  filter: {
    topic: t('filter'),
    event: { batchSize: 10, maximumBatchingWindow: 1, consumerGroupId: FILTER_GROUP, filterPatterns: [{ value: { type: ['keep'] } }, { value: [{ prefix: 'hello' }] }] },
  },
  latest: { topic: t('latest'), event: { startingPosition: 'LATEST', maximumBatchingWindow: 1 } },
  ts: { topic: t('ts'), event: { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: nowSeconds - 1800, maximumBatchingWindow: 1 } },
  trim: { topic: t('trim'), event: { startingPosition: 'TRIM_HORIZON', maximumBatchingWindow: 1 } },
  slow: { topic: t('slow'), timeout: 1, event: { maximumBatchingWindow: 1 } },
  disabled: { topic: t('disabled'), event: { enabled: false } },
};

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const sink = new Sink();
let offline: Offline;

beforeAll(async () => {
  kafka = kafkaClient(BROKERS);
  admin = kafka.admin();
  producer = kafka.producer();
  await Promise.all([admin.connect(), producer.connect(), sink.start()]);
  await createTopics(admin, Object.fromEntries(Object.entries(TOPICS).map(([name, n]) => [t(name), n])));
  // Produced before the mappings exist: what each starting position should (not) see.
  const hourAgo = String(Date.now() - 3600_000);
  await produce(producer, t('latest'), [{ value: 'before' }]);
  await produce(producer, t('ts'), [{ value: 'old', timestamp: hourAgo }, { value: 'new' }]);
  await produce(producer, t('trim'), [{ value: 'early' }]);

  const yml = writeServerlessYml(id, FUNCTIONS, { brokers: BROKERS, retryBackoffMs: { base: 200, max: 1000 } });
  offline = new Offline(yml, { SINK_URL: sink.url });
  await offline.start(Object.keys(FUNCTIONS).length - 1);
}, 90_000);

afterAll(async () => {
  await offline?.stop();
  offline?.removeConfig();
  await Promise.allSettled([producer?.disconnect(), admin?.disconnect(), sink.stop()]);
});

test('the handler receives the AWS MSK event shape, and each invocation is logged in one line', async () => {
  await produce(producer, t('shape'), [{ partition: 1, key: 'recordKey', value: '{"key":"value"}', headers: { headerKey: 'headerValue', accent: 'ë' } }]);
  const call = await until('the shape call', () => sink.callsOf('shape')[0]);
  expect(Object.keys(call.event)).toEqual(['eventSource', 'eventSourceArn', 'bootstrapServers', 'records']);
  expect(call.event.eventSource).toBe('aws:kafka');
  expect(call.event.eventSourceArn).toBe(CLUSTER_ARN);
  expect(call.event.bootstrapServers).toBe(BROKERS.join(','));
  const record = call.event.records[`${t('shape')}-1`]![0]!;
  expect(Object.keys(record)).toEqual(['topic', 'partition', 'offset', 'timestamp', 'timestampType', 'key', 'value', 'headers']);
  expect(record).toMatchObject({
    topic: t('shape'), partition: 1, offset: 0, timestampType: 'CREATE_TIME', key: 'cmVjb3JkS2V5', value: 'eyJrZXkiOiJ2YWx1ZSJ9',
    headers: [{ headerKey: [104, 101, 97, 100, 101, 114, 86, 97, 108, 117, 101] }, { accent: [-61, -85] }],
  });
  expect(Math.abs(record.timestamp - Date.now())).toBeLessThan(60_000);
  await until('the log line', () => new RegExp(`offline-msk: shape ${t('shape')}-1@0 1 rec \\d+ ms ok`).test(offline.output));
});

test('batches are cut at batchSize, and a full batch does not wait for the batching window', async () => {
  await produce(producer, t('size'), Array.from({ length: 15 }, (_, i) => ({ value: `s${i}` })));
  const calls = await until('15 records in batches', () => {
    const c = sink.callsOf('size');
    return c.reduce((n, call) => n + recordsOf(call).length, 0) >= 15 && c;
  });
  expect(calls.map((c) => recordsOf(c).length)).toEqual([5, 5, 5]);
  expect(delivered(sink, 'size')).toEqual(Array.from({ length: 15 }, (_, i) => `s${i}`));
});

test('a partial batch waits for the batching window: records arriving within it are delivered together', async () => {
  // Produced apart (each send is acknowledged before the next), so a mapping that invoked as soon
  // as it had a record would deliver w0 alone.
  for (const value of ['w0', 'w1', 'w2']) {
    await produce(producer, t('window'), [{ value }]);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await until('the window call', () => sink.callsOf('window').length > 0);
  // A record after the window closed: once it is delivered, every call before it has been made.
  await produce(producer, t('window'), [{ value: 'after' }]);
  await until('the record after the window', () => delivered(sink, 'window').includes('after'));
  expect(sink.callsOf('window').map((c) => recordsOf(c).map((r) => r.text))).toEqual([['w0', 'w1', 'w2'], ['after']]);
});

test('records of each partition arrive in offset order, all of them, once', async () => {
  const messages = Array.from({ length: 90 }, (_, i) => ({ key: `k${i % 6}`, value: JSON.stringify({ key: `k${i % 6}`, seq: i }) }));
  await produce(producer, t('order'), messages);
  await until('90 records', () => delivered(sink, 'order').length >= 90);
  const offsets = new Map<number, number[]>();
  const seqs = new Map<string, number[]>();
  for (const call of sink.callsOf('order')) {
    for (const r of recordsOf(call)) {
      offsets.set(r.partition, [...(offsets.get(r.partition) ?? []), r.offset]);
      const { key, seq } = JSON.parse(r.text);
      seqs.set(key, [...(seqs.get(key) ?? []), seq]);
    }
  }
  expect([...offsets.values()].reduce((n, list) => n + list.length, 0)).toBe(90);
  for (const list of offsets.values()) expect(list).toEqual(list.map((_, i) => i));
  for (const list of seqs.values()) expect(list).toEqual([...list].sort((a, b) => a - b));
});

test('a failing batch is redelivered unchanged while its partition waits; other partitions go on (self-managed Kafka)', async () => {
  const p0 = `${t('retry')}-0`;
  const p1 = `${t('retry')}-1`;
  // Fail partition 0 until partition 1 has been delivered meanwhile, and at least twice.
  sink.decide.set('retry', (event, previous) => {
    if (!event.records[p0]) return {};
    const failures = previous.filter((c) => c.action.fail).length;
    const p1Done = previous.some((c) => c.event.records[p1] && !c.action.fail);
    return failures < 2 || !p1Done ? { fail: 'partition 0 is not ready' } : {};
  });
  await produce(producer, t('retry'), ['a', 'b', 'c'].map((value) => ({ partition: 0, value })));
  await until('the first failure', () => sink.callsOf('retry').some((c) => c.action.fail));
  await produce(producer, t('retry'), ['x', 'y'].map((value) => ({ partition: 1, value })));
  await until('partition 0 delivered', () => sink.callsOf('retry').some((c) => c.event.records[p0] && !c.action.fail), 30_000);

  const calls = sink.callsOf('retry');
  expect(calls[0]!.event.eventSource).toBe('SelfManagedKafka');
  expect(calls[0]!.event).not.toHaveProperty('eventSourceArn');
  const p0Calls = calls.filter((c) => c.event.records[p0]);
  expect(p0Calls.length).toBeGreaterThanOrEqual(3);
  for (const c of p0Calls) expect(c.event.records[p0]!.map((r) => r.offset)).toEqual([0, 1, 2]);
  expect(p0Calls.at(-1)!.action.fail).toBeUndefined();
  expect(delivered(sink, 'retry').filter((v) => v === 'x' || v === 'y')).toEqual(['x', 'y']);
});

test('after MaximumRetryAttempts the batch goes to the Kafka on-failure destination and the mapping moves on', async () => {
  sink.decide.set('dlq', (event) => {
    const poisoned = Object.values(event.records).flat().some((r) => Buffer.from(r.value ?? '', 'base64').toString().includes('poison'));
    return poisoned ? { fail: 'poison record' } : {};
  });
  await produce(producer, t('dlq'), [{ key: 'k1', value: 'ok1' }, { key: 'k2', value: 'poison', headers: { h: 'v' } }, { key: 'k3', value: 'ok2' }]);
  const dead = await readTopic(kafka, t('dlq-out'), 3);
  expect(dead.map((d) => d.value)).toEqual(['ok1', 'poison', 'ok2']);
  expect(dead[1]).toMatchObject({ key: 'k2', headers: expect.objectContaining({ h: 'v', 'lambda-esm-condition': 'RetryAttemptsExhausted', 'lambda-esm-source-offset': '1', 'lambda-esm-attempts': '2' }) });
  expect(dead[1]!.headers['lambda-esm-error']).toContain('poison record');
  // First attempt plus one retry, with the same records.
  expect(sink.callsOf('dlq').map((c) => recordsOf(c).map((r) => r.offset))).toEqual([[0, 1, 2], [0, 1, 2]]);
  await produce(producer, t('dlq'), [{ value: 'ok3' }]);
  await until('ok3', () => delivered(sink, 'dlq').includes('ok3'));
});

test('with unlimited retries a failing record is retried until it is older than MaximumRecordAgeInSeconds, then dead-lettered', async () => {
  sink.decide.set('age', (event) =>
    Object.values(event.records).flat().some((r) => Buffer.from(r.value ?? '', 'base64').toString() === 'stuck') ? { fail: 'dependency down' } : {});
  // An expired record is not sent to the function at all; a young one that keeps failing is retried.
  await produce(producer, t('age'), [{ key: 'old', value: 'expired', timestamp: String(Date.now() - 60_000) }, { key: 's', value: 'stuck' }]);
  const dead = await readTopic(kafka, t('age-out'), 2, 30_000);
  expect(dead.map((d) => [d.value, d.headers['lambda-esm-condition'], d.headers['lambda-esm-attempts']])).toEqual([
    ['expired', 'RecordAgeExceeded', '0'],
    ['stuck', 'RecordAgeExceeded', expect.stringMatching(/^\d+$/)],
  ]);
  expect(dead[1]!.headers['lambda-esm-error']).toContain('dependency down');
  // The partition moved on: a record that comes next is delivered.
  await produce(producer, t('age'), [{ key: 'n', value: 'next' }]);
  await until('the record behind it', () => delivered(sink, 'age').includes('next'), 15_000);
  const stuckCalls = sink.callsOf('age').filter((c) => recordsOf(c).some((r) => r.text === 'stuck'));
  // Retried (not dead-lettered after the first failure), and the header counts every attempt.
  expect(stuckCalls.length).toBeGreaterThan(1);
  expect(Number(dead[1]!.headers['lambda-esm-attempts'])).toBe(stuckCalls.length);
  expect(sink.calls.some((c) => recordsOf(c).some((r) => r.text === 'expired'))).toBe(false);
});

test('BisectBatchOnFunctionError isolates the failing record; the others are delivered in order', async () => {
  sink.decide.set('bisect', (event) =>
    Object.values(event.records).flat().some((r) => Buffer.from(r.value ?? '', 'base64').toString() === 'poison') ? { fail: 'poison' } : {});
  await produce(producer, t('bisect'), ['a', 'b', 'c', 'poison', 'd', 'e'].map((value) => ({ value })));
  const dead = await readTopic(kafka, t('bisect-out'), 1);
  await until('all good records', () => delivered(sink, 'bisect').length >= 5);
  expect(dead.map((d) => d.value)).toEqual(['poison']);
  expect(delivered(sink, 'bisect')).toEqual(['a', 'b', 'c', 'd', 'e']);
  expect(recordsOf(sink.callsOf('bisect')[0]!).map((r) => r.text)).toEqual(['a', 'b', 'c', 'poison', 'd', 'e']);
});

test('ReportBatchItemFailures: the partition resumes at the reported offset; a malformed identifier fails the whole batch', async () => {
  const partition = `${t('partial')}-0`;
  sink.decide.set('partial', (_event, previous) => {
    if (previous.length === 0) return { result: { batchItemFailures: [{ itemIdentifier: { partition, offset: 2 } }] } };
    if (previous.length === 1) return { result: { batchItemFailures: [{ itemIdentifier: partition }] } };
    return { result: { batchItemFailures: [] } };
  });
  await produce(producer, t('partial'), ['p0', 'p1', 'p2', 'p3'].map((value) => ({ value })));
  await until('three calls', () => sink.callsOf('partial').length >= 3);
  // A record behind them: once it is delivered, the partition has moved past p2 and p3 for good.
  await produce(producer, t('partial'), [{ value: 'p4' }]);
  await until('p4', () => sink.callsOf('partial').some((c) => recordsOf(c).some((r) => r.text === 'p4')));
  expect(sink.callsOf('partial').map((c) => recordsOf(c).map((r) => r.offset))).toEqual([[0, 1, 2, 3], [2, 3], [2, 3], [4]]);
});

test('filter patterns drop non-matching records and the group commits past them', async () => {
  await produce(producer, t('filter'), [
    { value: '{"type":"keep","n":1}' }, { value: '{"type":"drop"}' }, { value: 'plain text' }, { value: 'hello world' },
    { value: '{"type":"keep","n":2}' }, { value: '{"type":"drop"}' }, { value: '{"type":"drop"}' },
  ]);
  await until('committed past the dropped tail', async () => {
    const [topic] = await admin.fetchOffsets({ groupId: FILTER_GROUP, topics: [t('filter')] });
    return topic?.partitions[0]?.offset === '7';
  }, 15_000);
  expect(delivered(sink, 'filter')).toEqual(['{"type":"keep","n":1}', 'hello world', '{"type":"keep","n":2}']);
});

test('starting positions: LATEST skips earlier records, AT_TIMESTAMP starts at the timestamp, TRIM_HORIZON reads from the start', async () => {
  await produce(producer, t('latest'), [{ value: 'after' }]);
  await until('latest', () => delivered(sink, 'latest').includes('after'));
  await until('ts', () => delivered(sink, 'ts').includes('new'));
  await until('trim', () => delivered(sink, 'trim').includes('early'));
  expect(delivered(sink, 'latest')).toEqual(['after']);
  expect(delivered(sink, 'ts')).toEqual(['new']);
});

test('a function timeout (from serverless.yml) is an error and the batch is retried', async () => {
  sink.decide.set('slow', (_event, previous) => (previous.length === 0 ? { sleepMs: 2500 } : {}));
  await produce(producer, t('slow'), [{ value: 'slow-1' }]);
  await until('second call', () => sink.callsOf('slow').length >= 2, 20_000);
  expect(sink.callsOf('slow').map((c) => recordsOf(c).map((r) => r.text))).toEqual([['slow-1'], ['slow-1']]);
  expect(offline.output).toMatch(/offline-msk: slow \S+@0 1 rec \d+ ms error: .*timeout/i);
});

test('a disabled mapping is not consumed; serverless-offline stops cleanly on Ctrl-C', async () => {
  await produce(producer, t('disabled'), [{ value: 'never' }]);
  expect(offline.output).toContain('mapping disabled');
  const code = await offline.stop();
  expect(code).toBe(0);
  expect(offline.output).toContain('offline-msk: stopped');
  expect(sink.callsOf('disabled')).toHaveLength(0);
});
