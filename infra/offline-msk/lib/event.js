/**
 * Owns the shape of what a handler receives: one Kafka record as AWS's poller renders it, and the
 * event envelope around a batch. Records are serialised once, when fetched, so that building an
 * event for a batch is string concatenation (keeps the plugin close to a raw consumer's speed).
 */
'use strict';

/** AWS's synchronous Invoke payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * Header values arrive as Java (signed) bytes, -128..127; a duplicated header name appears once
 * per value, in the order kafkajs decoded them.
 * @param {Record<string, Buffer | Buffer[] | string | undefined>} headers
 */
function renderHeaders(headers) {
  const out = [];
  for (const [name, raw] of Object.entries(headers ?? {})) {
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      const buf = value == null ? Buffer.alloc(0) : Buffer.isBuffer(value) ? value : Buffer.from(String(value));
      out.push({ [name]: Array.from(new Int8Array(buf.buffer, buf.byteOffset, buf.length)) });
    }
  }
  return out;
}

/**
 * One record, with the fields in AWS's order. A null key or value is left out, as AWS does for
 * keyless records (Powertools' schema makes `key` optional for that reason).
 * @param {string} topic
 * @param {number} partition
 * @param {import('kafkajs').KafkaMessage & { batchContext?: { timestampType?: number } }} message
 */
function renderRecord(topic, partition, message) {
  /** @type {Record<string, unknown>} */
  const record = {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    timestampType: message.batchContext?.timestampType === 1 ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
  };
  if (message.key != null) record.key = message.key.toString('base64');
  if (message.value != null) record.value = message.value.toString('base64');
  record.headers = renderHeaders(message.headers);
  return record;
}

/**
 * The same record as `JSON.stringify(renderRecord(…))`, written directly: this runs for every
 * record fetched, and skipping the intermediate object roughly halves the plugin's own cost.
 * Offsets and timestamps arrive from kafkajs as digit strings. `prefix` comes from recordPrefix().
 * @param {string} prefix
 * @param {import('kafkajs').KafkaMessage & { batchContext?: { timestampType?: number } }} message
 */
function serializeRecord(prefix, message) {
  const type = message.batchContext?.timestampType === 1 ? 'LOG_APPEND_TIME' : 'CREATE_TIME';
  let json = `${prefix}${Number(message.offset)},"timestamp":${Number(message.timestamp)},"timestampType":"${type}"`;
  if (message.key != null) json += `,"key":"${message.key.toString('base64')}"`;
  if (message.value != null) json += `,"value":"${message.value.toString('base64')}"`;
  const headers = message.headers;
  let any = false;
  for (const _ in headers) {
    any = true;
    break;
  }
  return `${json},"headers":${any ? JSON.stringify(renderHeaders(headers)) : '[]'}}`;
}

/** The constant start of every serialised record of one topic-partition. */
function recordPrefix(topic, partition) {
  return `{"topic":${JSON.stringify(topic)},"partition":${partition},"offset":`;
}

/**
 * The envelope: MSK mappings carry `eventSource: "aws:kafka"` and the cluster ARN; self-managed
 * ones `SelfManagedKafka` and no ARN. `bootstrapServers` is a comma-separated string.
 * @param {{ kind: 'msk' | 'kafka', eventSourceArn?: string, bootstrapServers: string }} source
 * @param {Map<string, string[]>} parts `topic-partition` → serialised records, in offset order
 * @returns {string}
 */
function renderEvent(source, parts) {
  let head = source.kind === 'msk'
    ? `{"eventSource":"aws:kafka","eventSourceArn":${JSON.stringify(source.eventSourceArn)},`
    : '{"eventSource":"SelfManagedKafka",';
  head += `"bootstrapServers":${JSON.stringify(source.bootstrapServers)},"records":{`;
  const body = [];
  for (const [key, records] of parts) body.push(`${JSON.stringify(key)}:[${records.join(',')}]`);
  return `${head}${body.join(',')}}}`;
}

/** Bytes the envelope adds around the records (upper bound, used when cutting batches). */
function envelopeBytes(source) {
  return Buffer.byteLength(renderEvent(source, new Map())) + 64;
}

module.exports = { MAX_PAYLOAD_BYTES, renderHeaders, renderRecord, serializeRecord, recordPrefix, renderEvent, envelopeBytes };
