/**
 * Checks of a packaged CloudFormation template against what AWS accepts and what the stage
 * promises (docs/deploy.md): each returns the problems it finds, so a test can assert `[]` on the
 * real template and show, on a deliberately broken copy, that the check does catch the fault.
 */

type Json = any; // CloudFormation is untyped JSON

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: Json;
}

export const ofType = (template: Json, type: string): [string, Json][] =>
  Object.entries<Json>(template.Resources).filter(([, resource]) => resource.Type === type);

export const actionsOf = (statement: Statement) => [statement.Action].flat();
export const resourcesOf = (statement: Statement) => [statement.Resource].flat().map(evaluate);

export function roleStatements(template: Json): Statement[] {
  return template.Resources.IamRoleLambdaExecution.Properties.Policies.flatMap(
    (policy: Json) => policy.PolicyDocument.Statement,
  );
}

/** Evaluates the intrinsic functions the IAM statements use (Join, Select, Split) to plain strings. */
export function evaluate(value: Json): Json {
  if (typeof value !== 'object' || value === null) return value;
  if ('Fn::Join' in value) {
    const [separator, parts] = value['Fn::Join'];
    return parts.map(evaluate).join(separator);
  }
  if ('Fn::Split' in value) {
    const [separator, text] = value['Fn::Split'];
    return String(evaluate(text)).split(separator);
  }
  if ('Fn::Select' in value) {
    const [index, list] = value['Fn::Select'];
    return evaluate(list)[index];
  }
  return value; // Ref / GetAtt stay symbolic
}

/** IAM's wildcard match (`*` any run of characters, `?` one), as MSK resource ARNs use it. */
export function iamMatches(pattern: string, arn: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(arn);
}

/**
 * The AWS::Lambda::EventSourceMapping properties AWS lists for Amazon MSK ("All Amazon MSK event
 * source configuration parameters in Lambda", msk-esm-parameters, with the CloudFormation names);
 * anything else (ParallelizationFactor, TumblingWindowInSeconds, ScalingConfig, …) is for other
 * event sources.
 */
export const MSK_MAPPING_PROPERTIES = new Set([
  'AmazonManagedKafkaEventSourceConfig',
  'BatchSize',
  'BisectBatchOnFunctionError',
  'DestinationConfig',
  'Enabled',
  'EventSourceArn',
  'FilterCriteria',
  'FunctionName',
  'FunctionResponseTypes',
  'KmsKeyArn',
  'MaximumBatchingWindowInSeconds',
  'MaximumRecordAgeInSeconds',
  'MaximumRetryAttempts',
  'ProvisionedPollerConfig',
  'SourceAccessConfigurations',
  'StartingPosition',
  'StartingPositionTimestamp',
  'Tags',
  'Topics',
]);

/** The error-handling controls AWS documents for Kafka mappings in provisioned mode (kafka-retry-configurations). */
export const ERROR_HANDLING_CONTROLS = [
  'MaximumRetryAttempts',
  'MaximumRecordAgeInSeconds',
  'BisectBatchOnFunctionError',
  'FunctionResponseTypes',
  'DestinationConfig',
];

/** API_OnFailure's pattern for a Kafka destination. */
const KAFKA_DESTINATION = /^kafka:\/\/([^.][a-zA-Z0-9\-_.]{0,248})$/;

const inRange = (value: unknown, min: number, max: number) =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;

/** Every Kafka mapping: provisioned mode wherever an error-handling control is set, and only values AWS accepts. */
export function mappingProblems(template: Json): string[] {
  const problems: string[] = [];
  for (const [id, { Properties: p }] of ofType(template, 'AWS::Lambda::EventSourceMapping')) {
    if (!p.EventSourceArn?.startsWith?.('arn:aws:kafka:') && !p.SelfManagedEventSource) continue;
    for (const key of Object.keys(p))
      if (!MSK_MAPPING_PROPERTIES.has(key) && !p.SelfManagedEventSource)
        problems.push(`${id}: ${key} is not a Kafka mapping property`);
    const controls = ERROR_HANDLING_CONTROLS.filter((key) => key in p);
    const pollers = p.ProvisionedPollerConfig;
    if (controls.length && !pollers)
      problems.push(`${id}: ${controls.join(', ')} without ProvisionedPollerConfig (provisioned mode)`);
    if (pollers) {
      if (!inRange(pollers.MinimumPollers, 1, 200))
        problems.push(`${id}: MinimumPollers ${pollers.MinimumPollers} outside 1..200`);
      if (!inRange(pollers.MaximumPollers, 1, 2000))
        problems.push(`${id}: MaximumPollers ${pollers.MaximumPollers} outside 1..2000`);
      if (pollers.MaximumPollers < pollers.MinimumPollers)
        problems.push(`${id}: MaximumPollers below MinimumPollers`);
    }
    if ('MaximumRetryAttempts' in p && !inRange(p.MaximumRetryAttempts, -1, 10_000))
      problems.push(`${id}: MaximumRetryAttempts ${p.MaximumRetryAttempts} outside -1..10000`);
    const age = p.MaximumRecordAgeInSeconds;
    if (age !== undefined && age !== -1 && !inRange(age, 60, 604_800))
      problems.push(`${id}: MaximumRecordAgeInSeconds ${age} outside -1, 60..604800`);
    if (
      'FunctionResponseTypes' in p &&
      JSON.stringify(p.FunctionResponseTypes) !== '["ReportBatchItemFailures"]'
    )
      problems.push(`${id}: FunctionResponseTypes ${JSON.stringify(p.FunctionResponseTypes)}`);
    const destination = p.DestinationConfig?.OnFailure?.Destination;
    if (destination !== undefined) {
      if (!KAFKA_DESTINATION.test(destination))
        problems.push(`${id}: on-failure destination ${destination} is not kafka://<topic>`);
      if (destination === `kafka://${p.Topics?.[0]}`)
        problems.push(`${id}: the on-failure destination is the source topic`);
    }
    if (!inRange(p.MaximumBatchingWindowInSeconds ?? 0, 0, 300))
      problems.push(
        `${id}: MaximumBatchingWindowInSeconds ${p.MaximumBatchingWindowInSeconds} outside 0..300 whole seconds`,
      );
  }
  return problems;
}

/** The topic ARN MSK's IAM checks for `topic` on the cluster `clusterArn` (arn:…:cluster/<name>/<uuid>). */
export const topicArn = (clusterArn: string, topic: string) =>
  `${clusterArn.replace(':cluster/', ':topic/')}/${topic}`;

/** Every Kafka on-failure destination must be writable by the functions' role: Connect, DescribeTopic, WriteData. */
export function deadLetterWriteProblems(template: Json): string[] {
  const statements = roleStatements(template).filter((s) => s.Effect === 'Allow');
  const allows = (action: string, arn: string) =>
    statements.some(
      (s) =>
        actionsOf(s).includes(action) &&
        resourcesOf(s).some((r) => typeof r === 'string' && iamMatches(r, arn)),
    );
  const problems: string[] = [];
  for (const [id, { Properties: p }] of ofType(template, 'AWS::Lambda::EventSourceMapping')) {
    const destination: string | undefined = p.DestinationConfig?.OnFailure?.Destination;
    if (!destination?.startsWith('kafka://')) continue;
    const cluster: string = p.EventSourceArn;
    const topic = topicArn(cluster, destination.slice('kafka://'.length));
    if (!allows('kafka-cluster:Connect', cluster))
      problems.push(`${id}: no kafka-cluster:Connect on ${cluster}`);
    for (const action of ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'])
      if (!allows(action, topic)) problems.push(`${id}: no ${action} on ${topic}`);
  }
  return problems;
}

/** With the proxy on, no function may be pointed at the database itself. */
export function proxyBypassProblems(template: Json, databaseSecretArn: string): string[] {
  const proxies = ofType(template, 'AWS::RDS::DBProxy');
  if (!proxies.length) return [];
  const problems: string[] = [];
  const [proxyId, proxy] = proxies[0]!;
  const endpoint = { 'Fn::GetAtt': [proxyId, 'Endpoint'] };
  const auth = proxy.Properties.Auth ?? [];
  if (!auth.some((a: Json) => a.SecretArn === databaseSecretArn))
    problems.push(`${proxyId}: does not accept the functions' credentials (${databaseSecretArn})`);
  if (proxy.Properties.RequireTLS !== true) problems.push(`${proxyId}: TLS not required`);
  for (const [id, fn] of ofType(template, 'AWS::Lambda::Function')) {
    const env = fn.Properties.Environment?.Variables ?? {};
    if ('DATABASE_URL' in env) problems.push(`${id}: DATABASE_URL names a database directly`);
    if (JSON.stringify(env.DATABASE_HOST) !== JSON.stringify(endpoint))
      problems.push(`${id}: DATABASE_HOST is ${JSON.stringify(env.DATABASE_HOST)}, not the proxy endpoint`);
    if (env.DATABASE_SECRET_ARN !== databaseSecretArn)
      problems.push(`${id}: reads the credentials of ${env.DATABASE_SECRET_ARN}`);
  }
  return problems;
}

/** Each poller drives at most this many concurrent invocations (kafka-scaling-modes). */
export const INVOCATIONS_PER_POLLER = 5;

export interface ConnectionBudget {
  /** Peak instances of each function (each holds DB_POOL_MAX connections). */
  peak: Record<string, number>;
  connections: number;
  limit: number;
  problems: string[];
}

/**
 * Peak instances × connections per instance, against what the proxy may open: its declared
 * MaxConnectionsPercent of the database's max_connections. A function's peak is its reserved concurrency; a Kafka-triggered
 * function's is, per mapping, one invocation per partition at most and at most 5 per poller.
 * A function with neither is unbounded, which is a problem in itself.
 */
export function connectionBudget(
  template: Json,
  {
    databaseMaxConnections,
    proxyMaxConnectionsPercent: percent,
    partitions,
  }: { databaseMaxConnections: number; proxyMaxConnectionsPercent: number; partitions: number },
): ConnectionBudget {
  const problems: string[] = [];
  const mappings = ofType(template, 'AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
  const peak: Record<string, number> = {};
  let connections = 0;
  for (const [id, fn] of ofType(template, 'AWS::Lambda::Function')) {
    const own = mappings.filter((m) => m.FunctionName?.['Fn::GetAtt']?.[0] === id);
    const reserved = fn.Properties.ReservedConcurrentExecutions;
    let instances: number;
    if (reserved !== undefined) instances = Number(reserved);
    else if (own.length) {
      instances = own.reduce((sum, m) => {
        const pollers = m.ProvisionedPollerConfig?.MaximumPollers;
        if (pollers === undefined)
          problems.push(
            `${id}: a mapping on ${m.Topics?.[0]} has no MaximumPollers, its concurrency is unbounded`,
          );
        return sum + Math.min(partitions, INVOCATIONS_PER_POLLER * Number(pollers ?? Infinity));
      }, 0);
    } else {
      problems.push(`${id}: no reserved concurrency and no Kafka trigger, its instances are unbounded`);
      instances = Infinity;
    }
    const pool = Number(fn.Properties.Environment?.Variables?.DB_POOL_MAX);
    if (!Number.isInteger(pool) || pool < 1)
      problems.push(
        `${id}: DB_POOL_MAX ${fn.Properties.Environment?.Variables?.DB_POOL_MAX} (needs a number, 1 on AWS)`,
      );
    peak[id] = instances;
    connections += instances * (pool || Infinity);
  }
  // A proxy of this stack must be set as declared; your own (databaseProxy=external) is taken at its word.
  for (const [id, group] of ofType(template, 'AWS::RDS::DBProxyTargetGroup')) {
    const actual = Number(group.Properties.ConnectionPoolConfigurationInfo?.MaxConnectionsPercent ?? 100);
    if (actual !== percent)
      problems.push(`${id}: MaxConnectionsPercent ${actual}, not the declared ${percent}`);
  }
  const limit = Math.floor((databaseMaxConnections * percent) / 100);
  if (!(connections <= limit))
    problems.push(
      `peak connections ${connections} exceed ${limit} (${percent}% of max_connections ${databaseMaxConnections})`,
    );
  return { peak, connections, limit, problems };
}

/**
 * A function invoked by another (its name in the caller's environment, as PAYMENT_CHARGE_FUNCTION
 * names chargePayment) must have room for the caller's peak: a throttled invoke fails the caller's
 * step instead of shedding load.
 */
export function invokeCapacityProblems(template: Json, peak: Record<string, number>): string[] {
  const functions = ofType(template, 'AWS::Lambda::Function');
  const byName = new Map(functions.map(([id, fn]) => [fn.Properties.FunctionName, id]));
  const problems: string[] = [];
  for (const [caller, fn] of functions) {
    for (const value of Object.values<Json>(fn.Properties.Environment?.Variables ?? {})) {
      const callee = byName.get(value);
      if (callee && callee !== caller && !(peak[callee]! >= peak[caller]!)) {
        problems.push(
          `${callee}: ${peak[callee]} instances cannot serve ${caller}'s ${peak[caller]} concurrent invokes`,
        );
      }
    }
  }
  return problems;
}
