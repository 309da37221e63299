/**
 * The kafkajs producer: one connected instance per Lambda container, created on first use and
 * re-created if the connection failed, so a broker restart costs one failed publish, not a
 * poisoned container.
 */
import { Kafka, Partitioners, logLevel, type Producer, type TopicMessages } from 'kafkajs';
import { z } from 'zod';
import { commaList, readEnv } from '../env.ts';
import { logger } from '../observability.ts';
import { kafkaAuthOptions } from './auth.ts';

const KafkaEnv = z.object({
  KAFKA_BROKERS: commaList,
  KAFKA_CLIENT_ID: z.string().default('shopstream'),
});

let connecting: Promise<Producer> | undefined;

export function kafkaClient(): Kafka {
  const env = readEnv(KafkaEnv);
  return new Kafka({
    clientId: env.KAFKA_CLIENT_ID,
    brokers: env.KAFKA_BROKERS,
    ...kafkaAuthOptions(),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log }) => {
      const { message, timestamp: _timestamp, logger: _logger, ...extra } = log;
      if (level <= logLevel.ERROR) logger.error(`kafkajs: ${message}`, extra);
      else logger.warn(`kafkajs: ${message}`, extra);
    },
  });
}

export function producer(): Promise<Producer> {
  connecting ??= (async () => {
    const instance = kafkaClient().producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    instance.on(instance.events.DISCONNECT, () => (connecting = undefined));
    await instance.connect();
    return instance;
  })().catch((error: unknown) => {
    connecting = undefined;
    throw error;
  });
  return connecting;
}

export async function sendBatch(topicMessages: TopicMessages[]): Promise<void> {
  if (!topicMessages.length) return;
  const instance = await producer();
  try {
    await instance.sendBatch({ topicMessages, acks: -1 });
  } catch (error) {
    connecting = undefined;
    await instance.disconnect().catch(() => {});
    throw error;
  }
}

export async function disconnectProducer(): Promise<void> {
  const current = connecting;
  connecting = undefined;
  if (current) await (await current.catch(() => undefined))?.disconnect();
}
