/**
 * Owns the on-failure destination. AWS's "Using a Kafka topic as an on-failure destination":
 * Lambda acts as a producer and writes the actual failed records, with failure metadata, to the
 * `kafka://<topic>` destination in the same cluster. Here each failed record keeps its key, value
 * and headers and gains `lambda-esm-*` headers describing the failure. Other destination types
 * (SQS, SNS, S3) have no local counterpart: they are logged and the records discarded, as AWS
 * discards them when no destination is set.
 */
'use strict';

/**
 * Rebuilds the original Kafka message from the serialised AWS record.
 * @param {string} json
 */
function originalMessage(json) {
  const record = JSON.parse(json);
  const headers = {};
  for (const header of record.headers) {
    for (const [name, bytes] of Object.entries(header)) {
      const value = Buffer.from(Int8Array.from(bytes).buffer);
      headers[name] = headers[name] === undefined ? value : [].concat(headers[name], value);
    }
  }
  return {
    record,
    message: {
      key: record.key === undefined ? null : Buffer.from(record.key, 'base64'),
      value: record.value === undefined ? null : Buffer.from(record.value, 'base64'),
      headers,
    },
  };
}

/**
 * @param {import('kafkajs').Producer} producer
 * @param {string} destination `kafka://topic`
 * @param {{ json: string }[]} entries
 * @param {{ functionName: string, error: string, condition: string, attempts: number }} failure
 */
async function sendToKafkaDestination(producer, destination, entries, failure) {
  const topic = destination.slice('kafka://'.length);
  const messages = entries.map(({ json }) => {
    const { record, message } = originalMessage(json);
    Object.assign(message.headers, {
      'lambda-esm-source-topic': record.topic,
      'lambda-esm-source-partition': String(record.partition),
      'lambda-esm-source-offset': String(record.offset),
      'lambda-esm-function': failure.functionName,
      'lambda-esm-condition': failure.condition,
      'lambda-esm-error': failure.error.slice(0, 4000),
      'lambda-esm-attempts': String(failure.attempts),
    });
    return message;
  });
  await producer.send({ topic, messages, acks: -1 });
}

module.exports = { sendToKafkaDestination, originalMessage };
