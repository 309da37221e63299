/**
 * Error handling, batching and poller mode of every Kafka trigger (`msk` / `kafka` event), in one
 * place: emitted into the CloudFormation template for AWS, and read by the offline MSK plugin
 * locally through the same `resources.extensions` overrides, so both run the same settings.
 *
 * serverless v3 has no fields for an event source mapping's error handling or poller mode, and the
 * mappings' logical ids contain the topic (with KAFKA_TOPIC_PREFIX) and the MSK cluster name, so
 * they cannot be written as static `resources.extensions` keys (serverless resolves no variables in
 * keys). This plugin adds, at `initialize` (before packaging and before the offline MSK plugin
 * reads them), for each mapping:
 *
 * - `ProvisionedPollerConfig: { MinimumPollers, MaximumPollers }` from `custom.kafkaTriggers`
 *   (stage parameters `kafkaMinimumPollers`, `kafkaMaximumPollers`). AWS documents the
 *   error-handling controls below for Kafka mappings in provisioned mode (the console offers them
 *   only there; every CLI example passes --provisioned-poller-config). AWS's ranges: minimum
 *   1..200, maximum 1..2000, maximum >= minimum; Lambda caps the maximum at the topic's partition
 *   count, and each poller drives at most 5 concurrent invocations (kafka-scaling-modes), which
 *   is what bounds the Kafka functions' database connections (docs/deploy.md, connection budget).
 * - `FunctionResponseTypes: [ReportBatchItemFailures]`: layers/kafka/consumer.ts answers failed
 *   records as partial batch failures; without this setting Lambda (and offline-msk) treat that
 *   answer as success and commit past the failed record — it would be lost.
 * - `DestinationConfig: kafka://<topic>.dlq` and `BisectBatchOnFunctionError: true`: a record
 *   that cannot be applied goes to the topic's dead-letter twin instead of blocking its partition
 *   forever; bisecting splits a batch whose invocation failed as a whole, so only the failing
 *   record goes there, not the valid records behind it. `npm run dlq:replay -- <topic>` sends
 *   dead letters back.
 * - `MaximumRecordAgeInSeconds` from `custom.kafkaTriggers` (stage parameter
 *   `kafkaMaximumRecordAgeSeconds`, default 3600) and `MaximumRetryAttempts: 10000`. The retry
 *   design: a record that can never succeed is dead-lettered by the function itself on its first
 *   failure (layers/kafka/consumer.ts); a retryable failure (database or broker down) is retried
 *   with backoff for as long as the record is young. So the record's age is the limit, not a
 *   count. AWS accepts -1 or 60..604800 s for the age and -1..10000 for the retries, but with an
 *   on-failure destination it turns infinite retries (-1) into at most 10 (kafka-retry-configurations,
 *   kafka-on-failure-destination): 10 quick retries would dead-letter healthy records during a
 *   minute-long outage. 10000, AWS's largest value, leaves the age as the limit unless the retries
 *   come faster than one per 0.36 s on average over the hour (AWS does not document its retry
 *   interval for Kafka; offline-msk backs off exponentially up to 30 s).
 * - `MaximumBatchingWindowInSeconds: 0`: deliver as soon as records arrive. AWS's default for
 *   Kafka is 500 ms, and an order crosses four Kafka hops (placed → reserved → payment →
 *   completed), so the default alone would add up to 2 s to every order. serverless v3 omits a
 *   `maximumBatchingWindow` of 0 from the template (and AWS takes whole seconds only), hence here.
 *
 * Values already written in `resources.extensions` for a mapping win over these defaults.
 */
'use strict';

/** AWS's accepted values (CreateEventSourceMapping, ProvisionedPollerConfig, kafka-retry-configurations). */
const AWS_RANGES = {
  MinimumPollers: [1, 200],
  MaximumPollers: [1, 2000],
  MaximumRetryAttempts: [-1, 10_000],
  MaximumRecordAgeInSeconds: [60, 604_800], // or -1 (infinite)
};

/** The largest retry count AWS accepts: leaves MaximumRecordAgeInSeconds as the limit (see above). */
const MAXIMUM_RETRY_ATTEMPTS = 10_000;

const FIXED = {
  FunctionResponseTypes: ['ReportBatchItemFailures'],
  MaximumRetryAttempts: MAXIMUM_RETRY_ATTEMPTS,
  BisectBatchOnFunctionError: true,
  MaximumBatchingWindowInSeconds: 0,
};

class EsmErrorHandling {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { initialize: () => this.apply() };
  }

  apply() {
    const service = this.serverless.service;
    const naming = this.serverless.getProvider('aws').naming;
    const tuned = kafkaTriggerSettings(service.custom?.kafkaTriggers ?? {});
    service.resources ??= {};
    service.resources.extensions ??= {};
    const extensions = service.resources.extensions;
    for (const functionKey of service.getAllFunctions()) {
      for (const event of service.getFunction(functionKey).events ?? []) {
        const kind = event.msk ? 'msk' : event.kafka ? 'kafka' : null;
        if (!kind || typeof event[kind].topic !== 'string') continue;
        const { topic, arn } = event[kind];
        const logicalId =
          kind === 'msk'
            ? naming.getMSKEventLogicalId(functionKey, clusterName(arn), topic)
            : naming.getKafkaEventLogicalId(functionKey, topic);
        const own = extensions[logicalId]?.Properties ?? {};
        extensions[logicalId] = {
          ...extensions[logicalId],
          Properties: {
            ...FIXED,
            ...tuned,
            DestinationConfig: { OnFailure: { Destination: `kafka://${topic}.dlq` } },
            ...own,
          },
        };
      }
    }
  }
}

/**
 * The per-stage settings (`custom.kafkaTriggers`, from stage parameters, so strings when given on
 * the command line), checked against AWS's ranges: a wrong value fails `sls package` here, naming
 * the parameter, instead of failing the CloudFormation deploy.
 */
function kafkaTriggerSettings({ minimumPollers = 1, maximumPollers = 1, maximumRecordAgeSeconds = 3600 }) {
  const MinimumPollers = integer('kafkaMinimumPollers', minimumPollers, AWS_RANGES.MinimumPollers);
  const MaximumPollers = integer('kafkaMaximumPollers', maximumPollers, AWS_RANGES.MaximumPollers);
  if (MaximumPollers < MinimumPollers) {
    throw new Error(
      `esm-error-handling: kafkaMaximumPollers (${MaximumPollers}) must be at least kafkaMinimumPollers (${MinimumPollers})`,
    );
  }
  const age = Number(maximumRecordAgeSeconds);
  if (age !== -1) integer('kafkaMaximumRecordAgeSeconds', age, AWS_RANGES.MaximumRecordAgeInSeconds);
  return { MaximumRecordAgeInSeconds: age, ProvisionedPollerConfig: { MinimumPollers, MaximumPollers } };
}

function integer(name, raw, [min, max]) {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `esm-error-handling: the stage parameter ${name} must be an integer from ${min} to ${max}${name === 'kafkaMaximumRecordAgeSeconds' ? ' (or -1, infinite)' : ''}, got "${raw}"`,
    );
  }
  return value;
}

/** The cluster token serverless v3 puts in an MSK mapping's logical id (compile/events/msk). */
function clusterName(arn) {
  if (arn && typeof arn === 'object') return arn['Fn::ImportValue'] ?? arn.Ref ?? 'cluster';
  return String(arn).split('/')[1] ?? String(arn);
}

module.exports = EsmErrorHandling;
module.exports.AWS_RANGES = AWS_RANGES;
module.exports.MAXIMUM_RETRY_ATTEMPTS = MAXIMUM_RETRY_ATTEMPTS;
module.exports.kafkaTriggerSettings = kafkaTriggerSettings;
