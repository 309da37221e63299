/**
 * `sls package --stage prod` works offline (no AWS credentials) and its CloudFormation template is
 * what an AWS deploy needs: an MSK event source mapping per msk event with its settings, in
 * provisioned mode with the error handling AWS accepts, the runtime layer and the VPC on every
 * function, scoped IAM including the dead-letter writes, the RDS Proxy every function connects
 * through, a connection budget that holds, the relay schedule, API Gateway, and nothing local.
 * The stage is packaged once (about 15 s). Assertions walk the resolved service
 * (serverless-state.json) and the template, so functions the services add later are covered
 * without listing them. The checks themselves are in template-checks.ts; each is also shown to
 * fail on a broken copy of the template.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TOPIC_PARTITIONS } from '#layers/topics';
import {
  actionsOf as actions,
  connectionBudget,
  deadLetterWriteProblems,
  evaluate,
  invokeCapacityProblems,
  mappingProblems,
  ofType as ofTypeIn,
  proxyBypassProblems,
  resourcesOf,
  roleStatements as roleStatementsOf,
} from './template-checks.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PARAMS = {
  mskClusterArn:
    'arn:aws:kafka:eu-west-1:123456789012:cluster/shopstream-prod/11111111-2222-3333-4444-555555555555-s1',
  kafkaBrokers: 'boot-abc.c1.kafka-serverless.eu-west-1.amazonaws.com:9098',
  databaseSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shopstream/prod/db-AbCdEf',
  adminApiKeySecretArn:
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shopstream/prod/admin-key-GhIjKl',
  subnetIds: 'subnet-0a,subnet-0b',
  securityGroupIds: 'sg-0c',
  databaseInstanceId: 'shopstream-prod',
};
const CLUSTER_PREFIX = 'arn:aws:kafka:eu-west-1:123456789012:';
const CLUSTER_PATH = 'shopstream-prod/11111111-2222-3333-4444-555555555555-s1';

type Json = any; // CloudFormation and Serverless state are untyped JSON

let packageDir: string;
let template: Json;
let service: Json;
let resources: Record<string, Json>;
let packageOutput: string;

/** Runs Serverless with a clean environment: no credentials, no local-stack variables. */
function serverless(args: string[]): string {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: mkdtempSync(path.join(tmpdir(), 'sls-home-')), // no ~/.aws: proves no credentials are needed
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    // Not .esbuild: serverless-offline may be serving the e2e tests from there right now.
    ESBUILD_WORK_FOLDER: `.cache/esbuild-package-${process.pid}`,
  };
  const run = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/serverless/bin/serverless.js'), ...args],
    { cwd: ROOT, env, encoding: 'utf8', timeout: 180_000 },
  );
  const output = `${run.stdout}${run.stderr}`; // Serverless logs its notices on stderr
  if (run.status !== 0)
    throw new Error(`sls ${args.slice(0, 3).join(' ')} failed (${run.status ?? run.signal}):\n${output}`);
  return output;
}

beforeAll(() => {
  packageDir = mkdtempSync(path.join(tmpdir(), 'shopstream-package-'));
  const params = Object.entries(PARAMS).map(([key, value]) => `--param=${key}=${value}`);
  const started = Date.now();
  packageOutput = serverless([
    'package',
    '--stage',
    'prod',
    '--region',
    'eu-west-1',
    '--package',
    packageDir,
    ...params,
  ]);
  console.log(
    `sls package --stage prod: ${((Date.now() - started) / 1000).toFixed(1)} s\n${packageOutput.slice(packageOutput.indexOf('Bundle sizes'))}`,
  );
  template = JSON.parse(
    readFileSync(path.join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  service = JSON.parse(readFileSync(path.join(packageDir, 'serverless-state.json'), 'utf8')).service;
  resources = template.Resources;
}, 240_000);

afterAll(() => {
  if (packageDir) rmSync(packageDir, { recursive: true, force: true });
  rmSync(path.join(ROOT, `.cache/esbuild-package-${process.pid}`), { recursive: true, force: true });
});

const ofType = (type: string) => ofTypeIn(template, type);
const functionLogicalId = (name: string) =>
  `${name.charAt(0).toUpperCase()}${name.slice(1).replace(/-/g, 'Dash').replace(/_/g, 'Underscore')}LambdaFunction`;
const roleStatements = () => roleStatementsOf(template);
/** A deep copy of the packaged template to break on purpose. */
const copy = (): Json => structuredClone(template);
const mappingIds = () => ofType('AWS::Lambda::EventSourceMapping').map(([id]) => id);

describe('sls package --stage prod (offline, no credentials)', () => {
  it('prints the size of every bundle and of the layer', () => {
    expect(packageOutput).toContain('Bundle sizes (stage prod)');
    expect(packageOutput).toMatch(/layer runtime\s+[\d.]+ KiB zipped/);
    for (const name of Object.keys(service.functions))
      expect(packageOutput).toMatch(new RegExp(`function ${name}\\s+[\\d.]+ KiB`));
  });

  it('creates one MSK event source mapping per msk event, with the topic and settings the function chose', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').map(([, resource]) => resource.Properties);
    let expected = 0;
    for (const [name, fn] of Object.entries<Json>(service.functions)) {
      for (const { msk } of (fn.events ?? []).filter((event: Json) => event.msk)) {
        expected += 1;
        const where = `${name} on ${msk.topic}`;
        // Chosen per function: no AWS defaults by omission (the batching window defaults to 0 s
        // for every mapping in infra/esm-error-handling.cjs; a function may choose another).
        expect({ where, batchSize: typeof msk.batchSize, start: typeof msk.startingPosition }).toEqual({
          where,
          batchSize: 'number',
          start: 'string',
        });
        const mapping = mappings.find(
          (m) => m.FunctionName['Fn::GetAtt'][0] === functionLogicalId(name) && m.Topics[0] === msk.topic,
        );
        expect({ where, mapping: mapping ?? 'missing' }).toEqual({
          where,
          mapping: expect.objectContaining({
            EventSourceArn: PARAMS.mskClusterArn,
            Topics: [msk.topic],
            BatchSize: msk.batchSize,
            StartingPosition: msk.startingPosition,
          }),
        });
        // AWS takes whole seconds only (0..300); an unset window would mean AWS's 500 ms default.
        const window = mapping.MaximumBatchingWindowInSeconds;
        expect({ where, window }).toEqual({ where, window: msk.maximumBatchingWindow || 0 });
        expect({ where, wholeSeconds: Number.isInteger(window) && window >= 0 && window <= 300 }).toEqual({
          where,
          wholeSeconds: true,
        });
      }
    }
    expect(expected).toBeGreaterThan(0);
    expect(mappings).toHaveLength(expected);
    // The topic prefix of a local test run must not leak into the AWS topics.
    for (const mapping of mappings)
      expect(
        Object.values<string>(['order.', 'stock.', 'product.', 'payment.']).some((p) =>
          mapping.Topics[0].startsWith(p),
        ),
      ).toBe(true);
  });

  it('runs every function on nodejs22.x (arm64) in the VPC with the runtime layer', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(
      Object.keys(service.functions).map(functionLogicalId).sort(),
    );
    for (const [id, fn] of functions) {
      const p = fn.Properties;
      expect({ id, runtime: p.Runtime, arch: p.Architectures }).toEqual({
        id,
        runtime: 'nodejs22.x',
        arch: ['arm64'],
      });
      expect({ id, layers: p.Layers }).toEqual({ id, layers: [{ Ref: 'RuntimeLambdaLayer' }] });
      expect({
        id,
        subnets: evaluate(p.VpcConfig?.SubnetIds),
        groups: evaluate(p.VpcConfig?.SecurityGroupIds),
      }).toEqual({ id, subnets: ['subnet-0a', 'subnet-0b'], groups: ['sg-0c'] });
      const env = p.Environment.Variables;
      expect({
        id,
        secret: env.DATABASE_SECRET_ARN,
        url: env.DATABASE_URL,
        sasl: env.KAFKA_SASL_MECHANISM,
      }).toEqual({ id, secret: PARAMS.databaseSecretArn, url: undefined, sasl: 'aws-msk-iam' });
    }
    const [, layer] = ofType('AWS::Lambda::LayerVersion')[0]!;
    expect(layer.Properties.CompatibleRuntimes).toEqual(['nodejs22.x']);
  });

  it('keeps the runtime packages in the layer and out of the bundles', () => {
    const layerFiles = execFileSync('unzip', ['-Z1', path.join(packageDir, 'runtime.zip')], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    }).split('\n');
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const exclude: string[] = service.custom.esbuild.exclude;
    for (const dependency of Object.keys(manifest.dependencies)) {
      const excluded = exclude.some((pattern) =>
        pattern.endsWith('/*') ? dependency.startsWith(pattern.slice(0, -1)) : dependency === pattern,
      );
      expect({ dependency, excluded }).toEqual({ dependency, excluded: true });
      if (!dependency.startsWith('@aws-sdk/'))
        expect({
          dependency,
          inLayer: layerFiles.includes(`nodejs/node_modules/${dependency}/package.json`),
        }).toEqual({ dependency, inLayer: true });
    }
    for (const file of readdirSync(packageDir).filter((f) => f.endsWith('.zip') && f !== 'runtime.zip')) {
      expect({ file, underOneMiB: statSync(path.join(packageDir, file)).size < 1 << 20 }).toEqual({
        file,
        underOneMiB: true,
      });
    }
  });

  it('bundles load as ES modules with their packages resolved from the layer alone', () => {
    // On Lambda the layer is /opt/nodejs/node_modules, searched through NODE_PATH; plain Node ESM
    // ignores NODE_PATH, so here the unpacked layer's node_modules sits beside the handler instead.
    const unpacked = mkdtempSync(path.join(tmpdir(), 'shopstream-lambda-'));
    try {
      execFileSync('unzip', ['-q', path.join(packageDir, 'runtime.zip'), '-d', path.join(unpacked, 'opt')]);
      // The nodejs22.x runtime provides the AWS SDK v3 (found next, like /var/runtime/node_modules).
      mkdirSync(path.join(unpacked, 'node_modules'));
      symlinkSync(
        path.join(ROOT, 'node_modules', '@aws-sdk'),
        path.join(unpacked, 'node_modules', '@aws-sdk'),
      );
      const failures: string[] = [];
      for (const [name, fn] of Object.entries<Json>(service.functions)) {
        const task = path.join(unpacked, name);
        mkdirSync(task);
        execFileSync('unzip', ['-q', path.join(packageDir, `${name}.zip`), '-d', task]);
        symlinkSync(path.join(unpacked, 'opt', 'nodejs', 'node_modules'), path.join(task, 'node_modules'));
        const [file, exported] = [
          fn.handler.slice(0, fn.handler.lastIndexOf('.')),
          fn.handler.slice(fn.handler.lastIndexOf('.') + 1),
        ];
        const script = `const m = await import(${JSON.stringify(path.join(task, `${file}.mjs`))}); if (typeof m[${JSON.stringify(exported)}] !== 'function') throw new Error('no handler export');`;
        try {
          execFileSync(process.execPath, ['--input-type=module', '-e', script], {
            cwd: task,
            env: {
              PATH: process.env.PATH,
              AWS_REGION: 'eu-west-1',
              POWERTOOLS_DEV: 'false',
              POWERTOOLS_LOG_LEVEL: 'SILENT',
            },
            stdio: ['ignore', 'pipe', 'pipe'],
            timeout: 30_000,
          });
        } catch (error) {
          failures.push(
            `${name}: ${
              String((error as { stderr?: string }).stderr ?? error)
                .split('\n')
                .find((line) => /Error/.test(line)) ?? error
            }`,
          );
        }
      }
      expect(failures).toEqual([]);
    } finally {
      rmSync(unpacked, { recursive: true, force: true });
    }
  }, 120_000);

  it('grants the kafka-cluster actions only on this cluster, its topics and consumer groups', () => {
    const kafkaCluster = roleStatements().filter((s) =>
      actions(s).some((a) => a.startsWith('kafka-cluster:')),
    );
    const granted = new Set(kafkaCluster.flatMap(actions));
    for (const action of [
      'Connect',
      'DescribeGroup',
      'AlterGroup',
      'DescribeTopic',
      'ReadData',
      'DescribeClusterDynamicConfiguration',
      'WriteData',
    ]) {
      expect(granted).toContain(`kafka-cluster:${action}`);
    }
    const allowed = [
      `${CLUSTER_PREFIX}cluster/${CLUSTER_PATH}`,
      `${CLUSTER_PREFIX}topic/${CLUSTER_PATH}/*`,
      `${CLUSTER_PREFIX}topic/${CLUSTER_PATH}/*.dlq`,
      `${CLUSTER_PREFIX}group/${CLUSTER_PATH}/*`,
    ];
    for (const statement of kafkaCluster)
      for (const resource of resourcesOf(statement)) expect(allowed).toContain(resource);
    const groupGranted = kafkaCluster
      .filter((s) => actions(s).includes('kafka-cluster:AlterGroup'))
      .flatMap(resourcesOf);
    expect(groupGranted).toContain(`${CLUSTER_PREFIX}group/${CLUSTER_PATH}/*`);
    const describe = roleStatements().filter((s) =>
      actions(s).some((a) => a.startsWith('kafka:DescribeCluster')),
    );
    expect(describe.flatMap(actions)).toEqual(
      expect.arrayContaining(['kafka:DescribeCluster', 'kafka:DescribeClusterV2']),
    );
    for (const statement of describe)
      expect([...new Set(resourcesOf(statement))]).toEqual([PARAMS.mskClusterArn]);
  });

  it('grants the database secret, the payment and price invokes and the EC2 network interfaces, nothing wider', () => {
    const statements = roleStatements();
    const secret = statements.filter((s) => actions(s).some((a) => a.startsWith('secretsmanager:')));
    expect(secret.flatMap(actions)).toEqual(['secretsmanager:GetSecretValue']);
    expect(secret.flatMap(resourcesOf)).toEqual([PARAMS.databaseSecretArn]);
    const invoke = statements.filter((s) => actions(s).includes('lambda:InvokeFunction'));
    expect(invoke.flatMap(resourcesOf)).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': ['ChargePaymentLambdaFunction', 'Arn'] },
        { 'Fn::GetAtt': ['GetProductPricesLambdaFunction', 'Arn'] },
      ]),
    );
    for (const resource of invoke.flatMap(resourcesOf)) expect(resource).not.toBe('*');
    expect(statements.flatMap(actions)).toEqual(
      expect.arrayContaining([
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DeleteNetworkInterface',
      ]),
    );
    // Only the EC2 ENI actions and X-Ray (which take no resource-level permissions) may use '*'.
    for (const statement of statements.filter((s) => resourcesOf(s).includes('*'))) {
      for (const action of actions(statement)) expect(action).toMatch(/^(ec2:|xray:)/);
    }
  });

  it('runs the outbox relay every minute and serves HTTP through API Gateway', () => {
    const relayRules = ofType('AWS::Events::Rule').filter(([, rule]) =>
      rule.Properties.Targets.some((t: Json) => t.Arn['Fn::GetAtt']?.[0] === 'OutboxRelayLambdaFunction'),
    );
    expect(relayRules.map(([, rule]) => rule.Properties.ScheduleExpression)).toEqual(['rate(1 minute)']);
    expect(ofType('AWS::ApiGateway::RestApi')).toHaveLength(1);
    const httpEvents = Object.values<Json>(service.functions).flatMap((fn) =>
      (fn.events ?? []).filter((e: Json) => e.http),
    );
    expect(ofType('AWS::ApiGateway::Method').length).toBeGreaterThanOrEqual(httpEvents.length);
  });

  it('carries no local-only plugin, setting or address', () => {
    const text = JSON.stringify(template);
    for (const local of [
      'localhost',
      '127.0.0.1',
      '4566',
      'serverless-offline',
      'offline-msk',
      'offlineMsk',
      'localstack',
      'DATABASE_URL',
      'LAMBDA_ENDPOINT',
      '000000000000',
    ]) {
      expect({ local, found: text.includes(local) }).toEqual({ local, found: false });
    }
    // The admin key is a deploy-time dynamic reference, never a literal.
    const adminKeys = new Set(
      ofType('AWS::Lambda::Function').map(([, fn]) => fn.Properties.Environment.Variables.ADMIN_API_KEY),
    );
    expect([...adminKeys]).toEqual([
      `{{resolve:secretsmanager:${PARAMS.adminApiKeySecretArn}:SecretString}}`,
    ]);
  });

  it('runs every Kafka mapping in provisioned mode, with only error-handling settings AWS accepts', () => {
    expect(mappingIds().length).toBeGreaterThan(0);
    expect(mappingProblems(template)).toEqual([]);
    for (const [id, { Properties: p }] of ofType('AWS::Lambda::EventSourceMapping')) {
      // The record's age is the limit (infra/esm-error-handling.cjs): -1 retries with a destination
      // would mean 10 on AWS; 10000 is the largest count AWS accepts.
      expect({ id, retries: p.MaximumRetryAttempts, age: p.MaximumRecordAgeInSeconds }).toEqual({
        id,
        retries: 10_000,
        age: 3600,
      });
      expect({ id, pollers: p.ProvisionedPollerConfig }).toEqual({
        id,
        pollers: { MinimumPollers: 1, MaximumPollers: 1 },
      });
      expect({ id, destination: p.DestinationConfig.OnFailure.Destination }).toEqual({
        id,
        destination: `kafka://${p.Topics[0]}.dlq`,
      });
    }
    // The check catches a mapping that lost provisioned mode, and a value AWS would refuse.
    const broken = copy();
    const [first, second] = mappingIds();
    delete broken.Resources[first!].Properties.ProvisionedPollerConfig;
    broken.Resources[second!].Properties.MaximumRecordAgeInSeconds = 30;
    broken.Resources[second!].Properties.ParallelizationFactor = 2;
    expect(mappingProblems(broken)).toEqual([
      expect.stringContaining(
        `${first}: MaximumRetryAttempts, MaximumRecordAgeInSeconds, BisectBatchOnFunctionError, FunctionResponseTypes, DestinationConfig without ProvisionedPollerConfig`,
      ),
      `${second}: ParallelizationFactor is not a Kafka mapping property`,
      `${second}: MaximumRecordAgeInSeconds 30 outside -1, 60..604800`,
    ]);
  });

  it("lets the functions write every on-failure destination, and only the .dlq topics besides today's grants", () => {
    expect(deadLetterWriteProblems(template)).toEqual([]);
    const dlq = roleStatements().find((s) => s.Sid === 'KafkaDeadLetterWrites')!;
    expect(actions(dlq).sort()).toEqual([
      'kafka-cluster:Connect',
      'kafka-cluster:DescribeTopic',
      'kafka-cluster:WriteData',
    ]);
    expect(resourcesOf(dlq)).toEqual([PARAMS.mskClusterArn, `${CLUSTER_PREFIX}topic/${CLUSTER_PATH}/*.dlq`]);
    // Without it, a role that granted WriteData on the source topics only could not dead-letter.
    const broken = copy();
    const policy = broken.Resources.IamRoleLambdaExecution.Properties.Policies[0].PolicyDocument;
    policy.Statement = policy.Statement.filter(
      (s: Json) => s.Sid !== 'KafkaDeadLetterWrites' && s.Sid !== 'MskProduce',
    );
    const [first] = mappingIds();
    expect(deadLetterWriteProblems(broken)).toContain(
      `${first}: no kafka-cluster:WriteData on ${CLUSTER_PREFIX}topic/${CLUSTER_PATH}/${broken.Resources[first!].Properties.Topics[0]}.dlq`,
    );
  });

  it('creates an RDS Proxy on the database secret, and every function connects through it', () => {
    const [[proxyId, proxy]] = ofType('AWS::RDS::DBProxy') as [[string, Json]];
    expect(proxy.Properties).toMatchObject({
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      RoleArn: { 'Fn::GetAtt': ['DatabaseProxyRole', 'Arn'] },
    });
    expect(evaluate(proxy.Properties.VpcSubnetIds)).toEqual(['subnet-0a', 'subnet-0b']);
    const [[, targets]] = ofType('AWS::RDS::DBProxyTargetGroup') as [[string, Json]];
    expect(targets.Properties).toMatchObject({ DBProxyName: { Ref: proxyId }, TargetGroupName: 'default' });
    expect(targets.Properties.DBInstanceIdentifiers['Fn::If'][2]).toEqual([PARAMS.databaseInstanceId]);
    // The proxy's own role reads only the database secret.
    const proxyRole = resources.DatabaseProxyRole.Properties.Policies.flatMap(
      (p: Json) => p.PolicyDocument.Statement,
    );
    expect(proxyRole).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: PARAMS.databaseSecretArn },
    ]);
    expect(proxyBypassProblems(template, PARAMS.databaseSecretArn)).toEqual([]);
    // The check catches a function pointed at the database itself.
    const broken = copy();
    broken.Resources.PlaceOrderLambdaFunction.Properties.Environment.Variables.DATABASE_HOST =
      'shopstream.abc.eu-west-1.rds.amazonaws.com';
    expect(proxyBypassProblems(broken, PARAMS.databaseSecretArn)).toEqual([
      expect.stringContaining('PlaceOrderLambdaFunction: DATABASE_HOST is'),
    ]);
  });

  it('keeps peak instances × connections within what the proxy may open of the database', () => {
    const declared = service.custom.target.databaseConnections;
    const limits = {
      databaseMaxConnections: Number(declared.databaseMaxConnections),
      proxyMaxConnectionsPercent: Number(declared.proxyMaxConnectionsPercent),
      partitions: TOPIC_PARTITIONS,
    };
    const budget = connectionBudget(template, limits);
    console.log(
      `connection budget: ${budget.connections} at peak ≤ ${budget.limit}\n${Object.entries(budget.peak)
        .map(([id, n]) => `  ${id} ${n}`)
        .join('\n')}`,
    );
    expect(budget.problems).toEqual([]);
    // The figures docs/deploy.md works through for the default parameters.
    expect({ connections: budget.connections, limit: budget.limit }).toEqual({
      connections: 143,
      limit: 150,
    });
    for (const [id, fn] of ofType('AWS::Lambda::Function'))
      expect({ id, pool: fn.Properties.Environment.Variables.DB_POOL_MAX }).toEqual({ id, pool: '1' });
    expect(invokeCapacityProblems(template, budget.peak)).toEqual([]);
    // The check catches a larger reservation, a Kafka mapping with more pollers, an unreserved HTTP
    // function and a payment function too small for its caller.
    const broken = copy();
    broken.Resources.PlaceOrderLambdaFunction.Properties.ReservedConcurrentExecutions = 50;
    delete broken.Resources.GetOrderLambdaFunction.Properties.ReservedConcurrentExecutions;
    const reserveStock = ofTypeIn(broken, 'AWS::Lambda::EventSourceMapping').find(
      ([, m]) => m.Properties.FunctionName['Fn::GetAtt'][0] === 'ReserveStockLambdaFunction',
    )!;
    reserveStock[1].Properties.ProvisionedPollerConfig.MaximumPollers = 2;
    // processPayment's two mappings share its reservation; one more than the payment functions have:
    broken.Resources.ProcessPaymentLambdaFunction.Properties.ReservedConcurrentExecutions = 6;
    const over = connectionBudget(broken, limits);
    expect(over.problems).toEqual([
      'GetOrderLambdaFunction: no reserved concurrency and no Kafka trigger, its instances are unbounded',
      expect.stringMatching(/^peak connections Infinity exceed 150/),
    ]);
    expect(over.peak.ReserveStockLambdaFunction).toBe(6);
    expect(over.peak.ProcessPaymentLambdaFunction).toBe(6);
    expect(invokeCapacityProblems(broken, over.peak)).toContain(
      "ChargePaymentLambdaFunction: 5 instances cannot serve ProcessPaymentLambdaFunction's 6 concurrent invokes",
    );
    broken.Resources.GetOrderLambdaFunction.Properties.ReservedConcurrentExecutions = 3;
    expect(connectionBudget(broken, limits).problems).toEqual([
      'peak connections 185 exceed 150 (75% of max_connections 200)',
    ]);
    // The proxy this stack creates must open no more than the budget assumes.
    const wider = copy();
    wider.Resources.DatabaseProxyTargetGroup.Properties.ConnectionPoolConfigurationInfo.MaxConnectionsPercent = 90;
    expect(connectionBudget(wider, limits).problems).toEqual([
      'DatabaseProxyTargetGroup: MaxConnectionsPercent 90, not the declared 75',
    ]);
  });

  it("answers a throttled HTTP function with 503 problem+json and Retry-After, not API Gateway's bare 500", () => {
    const responses = ofType('AWS::ApiGateway::GatewayResponse').map(([, r]) => r.Properties);
    expect(responses).toEqual([
      expect.objectContaining({
        ResponseType: 'INTEGRATION_FAILURE',
        StatusCode: '503',
        RestApiId: { Ref: 'ApiGatewayRestApi' },
        ResponseParameters: {
          'gatewayresponse.header.Retry-After': "'1'",
          'gatewayresponse.header.Content-Type': "'application/problem+json'",
        },
      }),
    ]);
    expect(JSON.parse(responses[0].ResponseTemplates['application/json'])).toMatchObject({
      status: 503,
      title: 'Service Unavailable',
    });
  });

  it('bundles every migration into the migrate function', () => {
    const onDisk = readdirSync(path.join(ROOT, 'infra/db/migrations'))
      .filter((f) => f.endsWith('.sql'))
      .sort();
    const listed = [
      ...readFileSync(path.join(ROOT, 'infra/db/bundled-migrations.ts'), 'utf8').matchAll(
        /from '\.\/migrations\/([^']+\.sql)'/g,
      ),
    ]
      .map((m) => m[1])
      .sort();
    expect(listed).toEqual(onDisk);
    expect(service.functions.migrate.handler).toBe('functions/deploy/migrate.handler');
  });
});
