/**
 * Owns the plugin's output: one line per invocation and per notable event, through serverless'
 * logger when it gives us one (so lines interleave properly with serverless-offline's).
 */
'use strict';

/** @param {{ log?: { notice?: (s: string) => void } } | undefined} utils */
function createLogger(utils) {
  const sink = utils?.log?.notice ? (line) => utils.log.notice(line) : (line) => process.stderr.write(`${line}\n`);
  return (line) => sink(`offline-msk: ${line}`);
}

/** Kafka error types of a group coordinator that is still starting or moving (a new broker, a new group). */
const COORDINATOR_STARTING = new Set([
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
  'GROUP_LOAD_IN_PROGRESS',
]);
/** Kafka error types of a topic that does not exist yet or has no partition leader yet. */
const TOPIC_NOT_READY = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

let coordinatorWaitShown = false;

/**
 * The line for a failed attempt to read or set a group's offsets at start-up: a calm one while the
 * broker is still getting ready (the coordinator wait only once per process: every mapping waits
 * for the same broker), what to check otherwise. '' when there is nothing new to say. kafkajs
 * wraps the broker's error in `cause` once its own retries ran out.
 * @param {Error & { type?: string, cause?: unknown }} error
 * @param {string} topic
 */
function describeStartupWait(error, topic) {
  const types = [];
  for (let e = error; e && typeof e === 'object' && types.length < 5; e = e.cause)
    types.push(e.type ?? e.name);
  if (types.some((type) => COORDINATOR_STARTING.has(type) || type === 'KafkaJSGroupCoordinatorNotFound')) {
    if (coordinatorWaitShown) return '';
    coordinatorWaitShown = true;
    return 'waiting for the group coordinator';
  }
  if (types.some((type) => TOPIC_NOT_READY.has(type)))
    return `waiting for topic ${topic}; if this lasts, create it or check its name in serverless.yml`;
  return `cannot read the group's offsets on ${topic} (${error.message}); retrying every 2 s. Check that the broker is up and that KAFKA_BROKERS points at it`;
}

module.exports = { createLogger, describeStartupWait };
