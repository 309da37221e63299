/**
 * Error handling and batching of every Kafka trigger (`msk` / `kafka` event), in one place.
 *
 * serverless v3 has no fields for an event source mapping's error handling, and the mappings'
 * logical ids contain the topic (with KAFKA_TOPIC_PREFIX) and the MSK cluster name, so they cannot
 * be written as static `resources.extensions` keys (serverless resolves no variables in keys).
 * This plugin adds, at `initialize` (before packaging and before the offline MSK plugin reads
 * them), for each mapping:
 *
 * - `FunctionResponseTypes: [ReportBatchItemFailures]`: layers/kafka/consumer.ts answers failed
 *   records as partial batch failures; without this setting Lambda (and offline-msk) treat that
 *   answer as success and commit past the failed record — it would be lost.
 * - `MaximumRetryAttempts: 5` and `DestinationConfig: kafka://<topic>.dlq`: a record that keeps
 *   failing (a poison record) goes to the topic's dead-letter twin with the error, instead of
 *   blocking its partition forever; `BisectBatchOnFunctionError` splits the failing batch first,
 *   so only the poison record goes there, not the valid records behind it in its batch.
 *   `npm run dlq:replay -- <topic>` sends dead-lettered records back.
 * - `MaximumBatchingWindowInSeconds: 0`: deliver as soon as records arrive. AWS's default for
 *   Kafka is 500 ms, and an order crosses four Kafka hops (placed → reserved → payment →
 *   completed), so the default alone would add up to 2 s to every order. serverless v3 omits a
 *   `maximumBatchingWindow` of 0 from the template (and AWS takes whole seconds only), hence here.
 *
 * Values already written in `resources.extensions` for a mapping win over these defaults.
 */
'use strict';

const DEFAULTS = {
  FunctionResponseTypes: ['ReportBatchItemFailures'],
  MaximumRetryAttempts: 5,
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
            ...DEFAULTS,
            DestinationConfig: { OnFailure: { Destination: `kafka://${topic}.dlq` } },
            ...own,
          },
        };
      }
    }
  }
}

/** The cluster token serverless v3 puts in an MSK mapping's logical id (compile/events/msk). */
function clusterName(arn) {
  if (arn && typeof arn === 'object') return arn['Fn::ImportValue'] ?? arn.Ref ?? 'cluster';
  return String(arn).split('/')[1] ?? String(arn);
}

module.exports = EsmErrorHandling;
