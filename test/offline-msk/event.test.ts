/**
 * Golden tests of the event shape and of the pure parts of the offline MSK plugin (no broker).
 * The MSK example is the one AWS documents for Kafka events (Powertools for AWS Lambda,
 * KafkaMskEvent; the same record appears in the Lambda Developer Guide's with-msk "Example
 * event", whose `key` there is a placeholder that is not canonical base64).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { renderEvent, renderRecord, serializeRecord, recordPrefix } = require('../../infra/offline-msk/lib/event.js');
const { compileFilters } = require('../../infra/offline-msk/lib/filter.js');
const { parseBatchItemFailures } = require('../../infra/offline-msk/lib/mapping.js');
const { defaultGroupId, compiledProperties } = require('../../infra/offline-msk/lib/config.js');

const AWS_MSK_EXAMPLE = {
  eventSource: 'aws:kafka',
  eventSourceArn: 'arn:aws:kafka:us-east-1:0123456789019:cluster/SalesCluster/abcd1234-abcd-cafe-abab-9876543210ab-4',
  bootstrapServers: 'b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092,b-1.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092',
  records: {
    'mytopic-0': [
      {
        topic: 'mytopic',
        partition: 0,
        offset: 15,
        timestamp: 1545084650987,
        timestampType: 'CREATE_TIME',
        key: 'cmVjb3JkS2V5',
        value: 'eyJrZXkiOiJ2YWx1ZSJ9',
        headers: [{ headerKey: [104, 101, 97, 100, 101, 114, 86, 97, 108, 117, 101] }],
      },
    ],
  },
};

/** A message as kafkajs hands it to eachBatch. */
const kafkajsMessage = (over: Record<string, unknown> = {}) => ({
  offset: '15',
  timestamp: '1545084650987',
  key: Buffer.from('recordKey'),
  value: Buffer.from('{"key":"value"}'),
  headers: { headerKey: Buffer.from('headerValue') },
  batchContext: { timestampType: 0 },
  ...over,
});

describe('event shape', () => {
  test('an MSK event is byte-for-byte the example in AWS documentation', () => {
    const record = JSON.stringify(renderRecord('mytopic', 0, kafkajsMessage()));
    const source = { kind: 'msk', eventSourceArn: AWS_MSK_EXAMPLE.eventSourceArn, bootstrapServers: AWS_MSK_EXAMPLE.bootstrapServers };
    expect(renderEvent(source, new Map([['mytopic-0', [record]]]))).toBe(JSON.stringify(AWS_MSK_EXAMPLE));
  });

  test('the Lambda Developer Guide example record (value, headers, fields and their order)', () => {
    const record = renderRecord('mytopic', 0, kafkajsMessage({ key: null, value: Buffer.from('Hello, this is a test.') }));
    expect(JSON.stringify(record)).toBe(
      '{"topic":"mytopic","partition":0,"offset":15,"timestamp":1545084650987,"timestampType":"CREATE_TIME","value":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==","headers":[{"headerKey":[104,101,97,100,101,114,86,97,108,117,101]}]}',
    );
  });

  test('self-managed Kafka: eventSource SelfManagedKafka and no eventSourceArn', () => {
    const { eventSourceArn: _arn, ...rest } = AWS_MSK_EXAMPLE;
    const record = JSON.stringify(renderRecord('mytopic', 0, kafkajsMessage()));
    const event = renderEvent({ kind: 'kafka', bootstrapServers: rest.bootstrapServers }, new Map([['mytopic-0', [record]]]));
    expect(event).toBe(JSON.stringify({ ...rest, eventSource: 'SelfManagedKafka' }));
  });

  test('the fast serialiser writes exactly JSON.stringify(renderRecord(...))', () => {
    for (const over of [{}, { key: null }, { value: null, headers: {} }, { headers: { 'ü"x': [Buffer.from([0, 255]), Buffer.from('')] } }, { batchContext: { timestampType: 1 } }]) {
      const message = kafkajsMessage(over);
      expect(serializeRecord(recordPrefix('tö"pic', 7), message)).toBe(JSON.stringify(renderRecord('tö"pic', 7, message)));
    }
  });

  test('header values are signed Java bytes; duplicates are kept; LOG_APPEND_TIME is reported', () => {
    const record = renderRecord('t', 3, kafkajsMessage({ headers: { a: Buffer.from('ë'), b: [Buffer.from('1'), Buffer.from('2')] }, batchContext: { timestampType: 1 } }));
    expect(record.headers).toEqual([{ a: [-61, -85] }, { b: [49] }, { b: [50] }]);
    expect(record.timestampType).toBe('LOG_APPEND_TIME');
  });
});

describe('filters (value only, JSON or plain string)', () => {
  const match = (patterns: unknown[], value: string | null) => compileFilters(patterns)(value === null ? null : Buffer.from(value));
  test.each([
    [[{ value: { type: ['keep'] } }], '{"type":"keep"}', true],
    [[{ value: { type: ['keep'] } }], '{"type":"drop"}', false],
    [[{ value: { device_ID: [{ prefix: 'AB' }] } }], '{"device_ID":"AB1234"}', true],
    [[{ value: { n: [{ numeric: ['>', 10, '<=', 20] }] } }], '{"n":15}', true],
    [[{ value: { n: [{ numeric: ['>', 10] }] } }], '{"n":5}', false],
    [[{ value: { t: [{ 'anything-but': ['x'] }] } }], '{"t":"y"}', true],
    [[{ value: { t: [{ exists: false }] } }], '{"u":1}', true],
    [[{ value: { a: { b: ['c'] } } }], '{"a":{"b":"c"}}', true],
    [[{ value: [{ prefix: 'hello' }] }], 'hello world', true],
    [[{ value: [{ prefix: 'hello' }] }], 'plain text', false],
    [[{ value: { type: ['x'] } }, { value: { type: ['y'] } }], '{"type":"y"}', true],
  ])('%j on %s → %s', (patterns, value, expected) => {
    expect(match(patterns, value)).toBe(expected);
  });
});

describe('partial batch response', () => {
  const part = { key: 't-0' };
  const entries = [0, 1, 2].map((offset) => ({ offset, part }));
  test('a reported record sets where its partition resumes', () => {
    expect(parseBatchItemFailures({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 1 } }] }, entries)).toEqual(new Map([['t-0', 1]]));
  });
  test('empty or absent means success', () => {
    expect(parseBatchItemFailures({ batchItemFailures: [] }, entries)?.size).toBe(0);
    expect(parseBatchItemFailures(null, entries)?.size).toBe(0);
  });
  test('a flat string, unknown partition or offset fails the whole batch', () => {
    expect(parseBatchItemFailures({ batchItemFailures: [{ itemIdentifier: 't-0' }] }, entries)).toBeNull();
    expect(parseBatchItemFailures({ batchItemFailures: [{ itemIdentifier: { partition: 't-1', offset: 1 } }] }, entries)).toBeNull();
    expect(parseBatchItemFailures({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 9 } }] }, entries)).toBeNull();
  });
});

describe('configuration', () => {
  test('the default consumer group is a stable UUID per mapping', () => {
    const id = defaultGroupId('svc:dev:FnEventSourceMappingMSKClusterTopic');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(defaultGroupId('svc:dev:FnEventSourceMappingMSKClusterTopic')).toBe(id);
  });
  test('like serverless v3, a 0 batching window is not emitted (AWS default applies)', () => {
    expect(compiledProperties('msk', { arn: 'arn:aws:kafka:r:1:cluster/c/x', topic: 't', maximumBatchingWindow: 0 })).not.toHaveProperty('MaximumBatchingWindowInSeconds');
  });
});
