/**
 * The per-stage Kafka trigger parameters (serverless.yml custom.kafkaTriggers) are checked against
 * AWS's ranges when the service loads, so a value CloudFormation would refuse stops `sls package`
 * naming the parameter. Parameters given on the command line arrive as strings.
 */
import { createRequire } from 'node:module';

const { kafkaTriggerSettings } = createRequire(import.meta.url)('../../infra/esm-error-handling.cjs') as {
  kafkaTriggerSettings: (settings: Record<string, unknown>) => {
    MaximumRecordAgeInSeconds: number;
    ProvisionedPollerConfig: { MinimumPollers: number; MaximumPollers: number };
  };
};

it('turns the stage parameters into the mapping settings', () => {
  expect(
    kafkaTriggerSettings({ minimumPollers: '2', maximumPollers: '6', maximumRecordAgeSeconds: '7200' }),
  ).toEqual({
    MaximumRecordAgeInSeconds: 7200,
    ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 6 },
  });
  expect(kafkaTriggerSettings({ maximumRecordAgeSeconds: -1 }).MaximumRecordAgeInSeconds).toBe(-1);
});

it.each([
  [{ minimumPollers: 0 }, /kafkaMinimumPollers must be an integer from 1 to 200, got "0"/],
  [{ minimumPollers: 201, maximumPollers: 300 }, /kafkaMinimumPollers must be an integer from 1 to 200/],
  [{ maximumPollers: 2001 }, /kafkaMaximumPollers must be an integer from 1 to 2000/],
  [
    { minimumPollers: 3, maximumPollers: 2 },
    /kafkaMaximumPollers \(2\) must be at least kafkaMinimumPollers \(3\)/,
  ],
  [
    { maximumRecordAgeSeconds: 30 },
    /kafkaMaximumRecordAgeSeconds must be an integer from 60 to 604800 \(or -1, infinite\), got "30"/,
  ],
  [{ maximumRecordAgeSeconds: 'an hour' }, /kafkaMaximumRecordAgeSeconds/],
])('refuses %j', (settings, message) => {
  expect(() => kafkaTriggerSettings(settings)).toThrow(message);
});
