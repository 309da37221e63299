/**
 * Owns the translation of serverless.yml into event source mappings: every function's `msk` and
 * `kafka` events, overlaid with the CloudFormation overrides a project writes for AWS
 * (`resources.extensions.<LogicalId>.Properties`), with AWS's defaults filled in. Also reads the
 * plugin's own settings (`custom.offlineMsk`) and serverless-offline's Lambda port.
 */
'use strict';

const { createHash } = require('node:crypto');

/** Defaults from AWS's "All Amazon MSK event source configuration parameters in Lambda". */
const AWS_DEFAULTS = {
  BatchSize: 100,
  MaximumBatchingWindowInSeconds: 0.5,
  MaximumRetryAttempts: -1,
  MaximumRecordAgeInSeconds: -1,
  /** kafka-on-failure-destination: infinite retries plus a destination means at most 10 retries. */
  RetriesWithDestination: 10,
};

/**
 * @typedef {object} MappingConfig
 * @property {string} logicalId        the AWS::Lambda::EventSourceMapping logical id serverless v3 gives it
 * @property {string} functionKey      key under `functions:`
 * @property {string} functionName     deployed name, what the Invoke API addresses
 * @property {'msk' | 'kafka'} kind
 * @property {string} [eventSourceArn] MSK only
 * @property {string[]} declaredBootstrapServers  kafka only, as written in serverless.yml
 * @property {string[]} brokers        the local brokers actually used
 * @property {string} topic
 * @property {number} batchSize
 * @property {number} batchingWindowMs
 * @property {'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP'} startingPosition
 * @property {number} [startingPositionTimestamp]  Unix seconds
 * @property {boolean} enabled
 * @property {string} groupId
 * @property {unknown[]} filterPatterns
 * @property {number} maximumRetryAttempts  -1 = infinite
 * @property {number} maximumRecordAgeSeconds  -1 = infinite
 * @property {boolean} bisectBatchOnFunctionError
 * @property {boolean} reportBatchItemFailures
 * @property {string | null} onFailureDestination  e.g. `kafka://orders.dlq`
 * @property {string[]} warnings  settings AWS would refuse (used locally as given)
 */

/**
 * Plugin settings from `custom.offlineMsk`, serverless-offline's own options and the CLI.
 * @param {any} service serverless.service
 * @param {Record<string, any>} cliOptions
 */
function readPluginOptions(service, cliOptions = {}) {
  const custom = service.custom ?? {};
  const own = custom.offlineMsk ?? {};
  const offline = custom['serverless-offline'] ?? {};
  const lambdaPort = Number(cliOptions.lambdaPort ?? offline.lambdaPort ?? 3002);
  const host = cliOptions.host ?? offline.host ?? '127.0.0.1';
  const connectHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const brokers = toList(own.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092');
  return {
    brokers,
    /** MSK cluster ARN (or its name) → local brokers; anything not listed uses `brokers`. */
    clusters: own.clusters ?? {},
    lambdaEndpoint: own.lambdaEndpoint ?? `http://${connectHost}:${lambdaPort}`,
    region: own.region ?? service.provider?.region ?? 'us-east-1',
    /** Upper bound on concurrent invocations per mapping (each holds different partitions). */
    maxConcurrency: Number(own.maxConcurrency ?? 5),
    /** Delay before retrying a failed batch: doubles from base up to max. */
    retryBackoffMs: { base: Number(own.retryBackoffMs?.base ?? own.retryBaseMs ?? 1000), max: Number(own.retryBackoffMs?.max ?? 30_000) },
    /** Only these function keys (default: all). */
    functions: own.functions ? new Set(toList(own.functions)) : null,
    /** `false` turns the plugin off (e.g. in a stage that uses real MSK). */
    enabled: own.enabled !== false,
    /** Local-only overrides of every mapping's retry limits, for experiments and tests. */
    errorHandlingOverrides: errorHandlingOverrides(process.env),
  };
}

/**
 * `OFFLINE_MSK_MAXIMUM_RETRY_ATTEMPTS` / `OFFLINE_MSK_MAXIMUM_RECORD_AGE_SECONDS` replace the
 * template's values on every mapping (locally only; AWS deploys what the template says).
 * @param {NodeJS.ProcessEnv} env
 */
function errorHandlingOverrides(env) {
  const out = {};
  for (const [name, property] of [
    ['OFFLINE_MSK_MAXIMUM_RETRY_ATTEMPTS', 'MaximumRetryAttempts'],
    ['OFFLINE_MSK_MAXIMUM_RECORD_AGE_SECONDS', 'MaximumRecordAgeInSeconds'],
  ]) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (!/^-?\d+$/.test(value.trim())) throw new Error(`offline-msk: ${name} must be an integer (-1 = infinite), got "${value}"`);
    out[property] = Number(value);
  }
  return out;
}

/**
 * AWS's valid ranges (CreateEventSourceMapping): MaximumRetryAttempts -1..10000, and
 * MaximumRecordAgeInSeconds -1 or 60..604800. Locally a value outside them is used as given (a
 * short record age keeps a test short), with a warning that AWS would refuse the template.
 * @returns {string[]}
 */
function rangeWarnings(props) {
  const warnings = [];
  const retries = props.MaximumRetryAttempts;
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= -1 && retries <= 10_000)) {
    warnings.push(`MaximumRetryAttempts ${retries} is outside AWS's range (-1 to 10000)`);
  }
  const age = props.MaximumRecordAgeInSeconds;
  if (age !== undefined && !(Number.isInteger(age) && (age === -1 || (age >= 60 && age <= 604_800)))) {
    warnings.push(`MaximumRecordAgeInSeconds ${age} is outside AWS's range (-1, or 60 to 604800)`);
  }
  return warnings;
}

const toList = (value) => (Array.isArray(value) ? value : String(value).split(',')).map((s) => String(s).trim()).filter(Boolean);

/**
 * @param {any} serverless the Serverless instance
 * @param {ReturnType<typeof readPluginOptions>} options
 * @returns {MappingConfig[]}
 */
function readMappings(serverless, options) {
  const service = serverless.service;
  const naming = serverless.getProvider('aws').naming;
  const extensions = {
    // `sls package` deletes resources.extensions after merging it; offline never gets there, but
    // read the untouched input too in case another plugin packaged first.
    ...(serverless.configurationInput?.resources?.extensions ?? {}),
    ...(service.resources?.extensions ?? {}),
  };
  const templateParameters = {
    ...(serverless.configurationInput?.resources?.Parameters ?? {}),
    ...(service.resources?.Parameters ?? {}),
  };
  const stage = serverless.getProvider('aws').getStage?.() ?? service.provider?.stage ?? 'dev';
  const serviceName = typeof service.service === 'string' ? service.service : service.service?.name;
  const mappings = [];

  for (const functionKey of service.getAllFunctions()) {
    if (options.functions && !options.functions.has(functionKey)) continue;
    const fn = service.getFunction(functionKey);
    for (const event of fn.events ?? []) {
      const kind = event.msk ? 'msk' : event.kafka ? 'kafka' : null;
      if (!kind) continue;
      const ev = event[kind];
      const logicalId = kind === 'msk'
        ? naming.getMSKEventLogicalId(functionKey, clusterNameToken(ev.arn), ev.topic)
        : naming.getKafkaEventLogicalId(functionKey, ev.topic);
      const props = { ...compiledProperties(kind, ev), ...literalProperties(extensions[logicalId]?.Properties, templateParameters), ...options.errorHandlingOverrides };
      for (const key of ['MaximumRetryAttempts', 'MaximumRecordAgeInSeconds']) {
        // A serverless `--param` arrives as a string.
        if (typeof props[key] === 'string' && /^-?\d+$/.test(props[key].trim())) props[key] = Number(props[key]);
      }
      const arn = typeof props.EventSourceArn === 'string' ? props.EventSourceArn : localArn(options.region, clusterNameToken(ev.arn ?? 'local'));
      const hasDestination = Boolean(props.DestinationConfig?.OnFailure?.Destination);
      let retries = props.MaximumRetryAttempts ?? AWS_DEFAULTS.MaximumRetryAttempts;
      if (retries === -1 && hasDestination) retries = AWS_DEFAULTS.RetriesWithDestination;
      const groupId = (kind === 'msk' ? props.AmazonManagedKafkaEventSourceConfig : props.SelfManagedKafkaEventSourceConfig)?.ConsumerGroupId
        ?? defaultGroupId(`${serviceName}:${stage}:${logicalId}`);
      const windowSeconds = props.MaximumBatchingWindowInSeconds ?? AWS_DEFAULTS.MaximumBatchingWindowInSeconds;
      const destination = hasDestination ? String(props.DestinationConfig.OnFailure.Destination) : null;
      const topic = props.Topics?.[0] ?? ev.topic;
      if (destination === `kafka://${topic}`) {
        throw new Error(`offline-msk: ${logicalId}: a Kafka on-failure destination may not be the source topic (${topic})`);
      }
      mappings.push({
        logicalId,
        functionKey,
        functionName: fn.name ?? functionKey,
        kind,
        eventSourceArn: kind === 'msk' ? arn : undefined,
        declaredBootstrapServers: props.SelfManagedEventSource?.Endpoints?.KafkaBootstrapServers ?? [],
        accessConfigurations: props.SourceAccessConfigurations ?? [],
        brokers: kind === 'msk' ? brokersForCluster(options, arn) : options.brokers,
        topic,
        batchSize: props.BatchSize ?? AWS_DEFAULTS.BatchSize,
        batchingWindowMs: Math.round(windowSeconds * 1000),
        startingPosition: props.StartingPosition ?? 'TRIM_HORIZON',
        startingPositionTimestamp: props.StartingPositionTimestamp,
        enabled: props.Enabled !== false,
        groupId,
        filterPatterns: (props.FilterCriteria?.Filters ?? []).map((f) => (typeof f.Pattern === 'string' ? JSON.parse(f.Pattern) : f.Pattern)),
        maximumRetryAttempts: retries,
        maximumRecordAgeSeconds: props.MaximumRecordAgeInSeconds ?? AWS_DEFAULTS.MaximumRecordAgeInSeconds,
        bisectBatchOnFunctionError: props.BisectBatchOnFunctionError === true,
        reportBatchItemFailures: (props.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
        onFailureDestination: destination,
        warnings: rangeWarnings(props),
      });
    }
  }
  return mappings;
}

/** serverless v3's accessConfigurations keys → SourceAccessConfigurations Type and URI prefix (kafka.js). */
const ACCESS_TYPES = {
  vpcSubnet: ['VPC_SUBNET', 'subnet:'],
  vpcSecurityGroup: ['VPC_SECURITY_GROUP', 'security_group:'],
  saslPlainAuth: ['BASIC_AUTH', ''],
  saslScram256Auth: ['SASL_SCRAM_256_AUTH', ''],
  saslScram512Auth: ['SASL_SCRAM_512_AUTH', ''],
  clientCertificateTlsAuth: ['CLIENT_CERTIFICATE_TLS_AUTH', ''],
  serverRootCaCertificate: ['SERVER_ROOT_CA_CERTIFICATE', ''],
};

/**
 * The Properties serverless v3 compiles from an event (lib/plugins/aws/package/compile/events/msk
 * and kafka.js): only set fields are emitted, and a 0 batching window is left out, so AWS's
 * 500 ms default applies.
 */
function compiledProperties(kind, ev) {
  const p = { StartingPosition: ev.startingPosition || 'TRIM_HORIZON', Topics: [ev.topic] };
  if (kind === 'msk') p.EventSourceArn = ev.arn;
  if (ev.startingPositionTimestamp != null) p.StartingPositionTimestamp = ev.startingPositionTimestamp;
  if (ev.batchSize) p.BatchSize = ev.batchSize;
  if (ev.maximumBatchingWindow) p.MaximumBatchingWindowInSeconds = ev.maximumBatchingWindow;
  if (ev.consumerGroupId) {
    p[kind === 'msk' ? 'AmazonManagedKafkaEventSourceConfig' : 'SelfManagedKafkaEventSourceConfig'] = { ConsumerGroupId: ev.consumerGroupId };
  }
  if (ev.enabled != null) p.Enabled = ev.enabled;
  if (kind === 'kafka') {
    p.SelfManagedEventSource = { Endpoints: { KafkaBootstrapServers: ev.bootstrapServers } };
    p.SourceAccessConfigurations = Object.entries(ev.accessConfigurations ?? {}).flatMap(([name, values]) => {
      const [type, prefix] = ACCESS_TYPES[name] ?? [name, ''];
      return values.map((uri) => ({ Type: type, URI: `${prefix}${uri}` }));
    });
  } else if (ev.saslScram512) {
    p.SourceAccessConfigurations = [{ Type: 'SASL_SCRAM_512_AUTH', URI: ev.saslScram512 }];
  }
  if (ev.filterPatterns) p.FilterCriteria = { Filters: ev.filterPatterns.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) };
  if (p.StartingPosition === 'AT_TIMESTAMP' && p.StartingPositionTimestamp == null) {
    throw new Error(`offline-msk: startingPosition AT_TIMESTAMP needs startingPositionTimestamp (topic ${ev.topic})`);
  }
  return p;
}

/**
 * Extension values that are CloudFormation intrinsics ({Ref}, {Fn::…}) cannot be resolved locally,
 * except a `Ref` to a template parameter with a `Default` (resources.Parameters): that default is
 * what a deploy without an override gets.
 */
function literalProperties(props, parameters = {}) {
  const out = {};
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).some((k) => k === 'Ref' || k.startsWith('Fn::'))) {
      const parameter = typeof value.Ref === 'string' ? parameters[value.Ref] : undefined;
      if (parameter?.Default !== undefined) out[key] = parameter.Type === 'Number' ? Number(parameter.Default) : parameter.Default;
      continue;
    }
    out[key] = value;
  }
  return out;
}

/** Same token serverless v3 uses in the logical id (msk/get-msk-cluster-name-token.js). */
function clusterNameToken(arn) {
  if (arn && typeof arn === 'object') return arn['Fn::ImportValue'] ?? arn.Ref ?? 'cluster';
  return String(arn).split('/')[1] ?? String(arn);
}

function localArn(region, clusterName) {
  return `arn:aws:kafka:${region}:000000000000:cluster/${clusterName}/00000000-0000-0000-0000-000000000000-1`;
}

function brokersForCluster(options, arn) {
  const name = clusterNameToken(arn);
  const mapped = options.clusters[arn] ?? options.clusters[name];
  return mapped ? toList(mapped) : options.brokers;
}

/**
 * AWS names a mapping's consumer group after the mapping's UUID. Locally the mapping has no UUID,
 * so derive a stable one from service, stage and logical id: restarts resume the same group.
 */
function defaultGroupId(seed) {
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

module.exports = { AWS_DEFAULTS, readPluginOptions, readMappings, compiledProperties, defaultGroupId };
