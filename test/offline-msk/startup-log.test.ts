/**
 * What the offline MSK plugin prints while a mapping resolves its starting position (pure: the
 * errors are the ones kafkajs raises). A broker that is still electing its group coordinator is
 * a calm line, once per process; a missing topic or an unreachable broker says what to check.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { describeStartupWait } = require('../../infra/offline-msk/lib/log.js');
const kafkajs = require('kafkajs');
const { createErrorFromCode } = require('kafkajs/src/protocol/error');

/** A broker error as kafkajs hands it over once its own retries ran out. */
const afterRetries = (code: number) =>
  new kafkajs.KafkaJSNumberOfRetriesExceeded(new kafkajs.KafkaJSProtocolError(createErrorFromCode(code)), {
    retryCount: 5,
    retryTime: 3000,
  });

it('a coordinator that is not ready yet is one calm line for the whole process', () => {
  const notCoordinator = afterRetries(16); // NOT_COORDINATOR_FOR_GROUP
  expect(notCoordinator.message).toBe('This is not the correct coordinator for this group');
  expect(describeStartupWait(notCoordinator, 'order.placed')).toBe('waiting for the group coordinator');
  expect(describeStartupWait(afterRetries(15), 'stock.reserved')).toBe(''); // GROUP_COORDINATOR_NOT_AVAILABLE
  expect(describeStartupWait(afterRetries(14), 'order.placed')).toBe(''); // GROUP_LOAD_IN_PROGRESS
});

it('a topic that does not exist names it and where to look', () => {
  const line = describeStartupWait(afterRetries(3), 'order.placed'); // UNKNOWN_TOPIC_OR_PARTITION
  expect(line).toBe(
    'waiting for topic order.placed; if this lasts, create it or check its name in serverless.yml',
  );
});

it('any other failure says what failed and what to check', () => {
  const refused = new kafkajs.KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
  const line = describeStartupWait(refused, 'order.placed');
  expect(line).toContain(
    "cannot read the group's offsets on order.placed (Connection error: connect ECONNREFUSED 127.0.0.1:9092)",
  );
  expect(line).toContain('Check that the broker is up and that KAFKA_BROKERS points at it');
});
