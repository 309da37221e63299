/**
 * Direct delivery of product events to their consumers (inventory's, or the order service's price
 * list), for the cases Kafka will not produce on demand: a redelivered record, events arriving out
 * of order, a malformed record. It hands a product's outbox rows to the consumer functions as MSK
 * events through serverless-offline's Lambda API. (Normally the events reach them through Kafka,
 * via the offline MSK plugin.)
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { requireEnv } from '../support/api.ts';
import { database } from '../product/support.ts';

const CONSUMERS: Record<string, string> = {
  ProductCreated: 'onProductCreated',
  ProductDeleted: 'onProductDeleted',
};

let lambda: LambdaClient | undefined;
const client = () =>
  (lambda ??= new LambdaClient({
    endpoint: requireEnv('LAMBDA_ENDPOINT'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }));

export interface OutboxEvent {
  topic: string;
  key: string;
  payload: { eventId: string; type: string; occurredAt?: string; data: unknown };
}

export async function outboxEvents(productId: string, type?: string): Promise<OutboxEvent[]> {
  return database()<OutboxEvent[]>`
    select topic, key, payload from platform.outbox
    where key = ${productId} ${type ? database()`and payload->>'type' = ${type}` : database()``}
    order by id`;
}

/**
 * Invokes a consumer of `event` with a one-record MSK batch (inventory's for its type, unless
 * `functionName` names another); returns its answer.
 */
export async function invokeConsumer(
  event: OutboxEvent,
  offset = 0,
  functionName = CONSUMERS[event.payload.type],
): Promise<{ batchItemFailures: unknown[] }> {
  if (!functionName) throw new Error(`no inventory consumer for ${event.payload.type}`);
  const record = {
    topic: event.topic,
    partition: 0,
    offset,
    timestamp: Date.now(),
    timestampType: 'CREATE_TIME',
    key: Buffer.from(event.key).toString('base64'),
    value: Buffer.from(JSON.stringify(event.payload)).toString('base64'),
    headers: [{ 'event-type': [...Buffer.from(event.payload.type)] }],
  };
  const mskEvent = {
    eventSource: 'aws:kafka',
    eventSourceArn:
      'arn:aws:kafka:us-east-1:000000000000:cluster/shopstream-local/00000000-0000-0000-0000-000000000000-1',
    bootstrapServers: requireEnv('KAFKA_BROKERS'),
    records: { [`${event.topic}-0`]: [record] },
  };
  const response = await client().send(
    new InvokeCommand({
      FunctionName: `shopstream-local-${functionName}`,
      Payload: Buffer.from(JSON.stringify(mskEvent)),
    }),
  );
  if (response.FunctionError)
    throw new Error(`${functionName} failed: ${Buffer.from(response.Payload ?? []).toString()}`);
  return JSON.parse(Buffer.from(response.Payload ?? []).toString());
}

export function closeLambda(): void {
  lambda?.destroy();
  lambda = undefined;
}
