/**
 * The kafkajs producer: one connected instance per Lambda container, created on first use and
 * re-created if the connection failed, so a broker restart costs one failed publish, not a
 * poisoned container.
 *
 * Every send is bounded (KAFKA_SEND_TIMEOUT_MS, connecting included): kafkajs on its own keeps
 * reconnecting and retrying for tens of seconds while a broker restarts, and a handler that waits
 * for it runs into its Lambda timeout. After a failed send, further sends fail at once for
 * KAFKA_SEND_COOLDOWN_MS instead of each waiting out its own deadline: the outbox keeps what was
 * not published and the relay sends it once the broker answers again.
 */
import { Kafka, Partitioners, logLevel, type Producer, type TopicMessages } from 'kafkajs';
import { z } from 'zod';
import { commaList, once, readEnv } from '../env.ts';
import { DependencyError } from '../errors.ts';
import { logger } from '../observability.ts';
import { kafkaAuthOptions } from './auth.ts';

const KafkaEnv = z.object({
  KAFKA_BROKERS: commaList,
  KAFKA_CLIENT_ID: z.string().default('shopstream'),
  KAFKA_SEND_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  KAFKA_SEND_COOLDOWN_MS: z.coerce.number().int().min(0).default(2000),
});
const env = once(() => readEnv(KafkaEnv));

let connecting: Promise<Producer> | undefined;
/** Until when sends fail at once (the last one failed). */
let coolingUntil = 0;

export function kafkaClient(): Kafka {
  const { KAFKA_CLIENT_ID, KAFKA_BROKERS } = env();
  return new Kafka({
    clientId: KAFKA_CLIENT_ID,
    brokers: KAFKA_BROKERS,
    ...kafkaAuthOptions(),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, timestamp: _timestamp, logger: _logger, ...extra } = log;
        if (level <= logLevel.ERROR) logger.error(`kafkajs: ${message}`, extra);
        else logger.warn(`kafkajs: ${message}`, extra);
      },
  });
}

export function producer(): Promise<Producer> {
  connecting ??= (async () => {
    const instance = kafkaClient().producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    instance.on(instance.events.DISCONNECT, () => (connecting = undefined));
    await instance.connect();
    return instance;
  })().catch((error: unknown) => {
    connecting = undefined;
    throw error;
  });
  return connecting;
}

/**
 * Sends the messages with acks from all in-sync replicas, within KAFKA_SEND_TIMEOUT_MS. Throws a
 * retryable DependencyError when the broker does not answer in time or the producer is cooling
 * down after a failure; the messages may or may not have been written (consumers de-duplicate).
 */
export async function sendBatch(topicMessages: TopicMessages[]): Promise<void> {
  if (!topicMessages.length) return;
  const { KAFKA_SEND_TIMEOUT_MS: timeoutMs, KAFKA_SEND_COOLDOWN_MS: cooldownMs } = env();
  if (Date.now() < coolingUntil)
    throw new DependencyError('Kafka publish skipped: the last one failed moments ago');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DependencyError(`Kafka did not acknowledge within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const pending = producer();
  try {
    await Promise.race([
      pending.then((instance) => instance.sendBatch({ topicMessages, acks: -1 })),
      deadline,
    ]);
  } catch (error) {
    coolingUntil = Date.now() + cooldownMs;
    // A fresh connection next time; the abandoned send is cancelled with this one.
    if (connecting === pending) connecting = undefined;
    void pending.then((instance) => instance.disconnect()).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

export async function disconnectProducer(): Promise<void> {
  const current = connecting;
  connecting = undefined;
  if (current) await (await current.catch(() => undefined))?.disconnect();
}
