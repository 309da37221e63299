/**
 * The settings serverless v3 has no `msk`/`kafka` fields for (retries, bisect, destination,
 * partial batch response) are CloudFormation overrides on the generated
 * AWS::Lambda::EventSourceMapping. This checks, with a real `serverless package`, that the
 * logical ids the plugin reads them from are the ones serverless generates, so the same lines of
 * serverless.yml drive both AWS and the offline plugin; and that the plugin reads them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FIXTURE_DIR, esmLogicalId, runId, writeServerlessYml, type FunctionSpec } from './harness.ts';

const require = createRequire(import.meta.url);
const { compiledProperties } = require('../../infra/offline-msk/lib/config.js');

test('serverless package puts the overrides on the ESM resources the plugin reads them from', async () => {
  const id = runId();
  const extensions = { MaximumRetryAttempts: 2, BisectBatchOnFunctionError: true, FunctionResponseTypes: ['ReportBatchItemFailures'], DestinationConfig: { OnFailure: { Destination: 'kafka://order.placed.dlq' } } };
  const functions: Record<string, FunctionSpec> = {
    'reserve-stock': { topic: 'order.placed', event: { batchSize: 50, consumerGroupId: 'reserve' }, extensions },
    on_failed: { kind: 'kafka', topic: 'order.failed', extensions: { MaximumRetryAttempts: 0 } },
  };
  const file = writeServerlessYml(id, functions, {});
  const out = mkdtempSync(path.join(os.tmpdir(), 'offline-msk-package-'));
  try {
    await promisify(execFile)(process.execPath, [path.resolve(FIXTURE_DIR, '../../../node_modules/serverless/bin/serverless.js'), 'package', '--config', file, '--package', out], {
      cwd: FIXTURE_DIR,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', SINK_URL: 'http://127.0.0.1:1' },
    });
    const template = JSON.parse(readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
    const mappings = Object.fromEntries(Object.entries(template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>)
      .filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping'));
    expect(Object.keys(mappings).sort()).toEqual([esmLogicalId('on_failed', functions.on_failed!), esmLogicalId('reserve-stock', functions['reserve-stock']!)].sort());
    const reserve = mappings[esmLogicalId('reserve-stock', functions['reserve-stock']!)]!.Properties;
    expect(reserve).toMatchObject({ ...extensions, BatchSize: 50, AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'reserve' } });
    // What the plugin derives from the event is what serverless compiled (minus FunctionName).
    const { FunctionName: _f, ...compiled } = mappings[esmLogicalId('on_failed', functions.on_failed!)]!.Properties;
    const fixtureEvent = JSON.parse(readFileSync(path.join(FIXTURE_DIR, file), 'utf8')).functions.on_failed.events[0].kafka;
    expect({ ...compiledProperties('kafka', fixtureEvent), MaximumRetryAttempts: 0 }).toEqual(compiled);
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(path.join(FIXTURE_DIR, file), { force: true });
  }
});
