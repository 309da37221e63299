/**
 * `npm run dlq:replay -- <topic>… | --all [--dry-run]`: sends the records a Kafka trigger gave up on
 * (its dead-letter topic `<topic>.dlq`, see infra/esm-error-handling.cjs) back to the source topic,
 * so the consumer applies them once the cause is fixed. Consumers are idempotent, so replaying a
 * record that was in fact applied changes nothing; a record that fails again lands on the DLQ
 * again. Progress is committed in the consumer group `shopstream-dlq-replay.<dlq>`, so each
 * dead-letter record is replayed once; the command stops when it has caught up with what the DLQ
 * held at start.
 *
 * A dead-letter topic holds records of three writers — the offline MSK plugin, the functions
 * themselves, and on AWS the Kafka on-failure destination — all replayed as
 * layers/kafka/dead-letters.ts `recordsToReplay` describes (an AWS invocation record without the
 * records cannot be: it is reported with its offsets and skipped).
 *
 * Environment: KAFKA_BROKERS (default 127.0.0.1:9092), KAFKA_TOPIC_PREFIX (default empty), and for
 * Amazon MSK with IAM KAFKA_SASL_MECHANISM=aws-msk-iam and AWS_REGION (layers/kafka/auth.ts).
 */
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaAuthOptions } from '#layers/kafka/auth';
import { backlogSize, deadLetterBacklog, replayTopic } from '#layers/kafka/dead-letters';
import { TOPICS, deadLetterTopic, topicName, type TopicName } from '#layers/topics';

export { REPLAY_GROUP } from '#layers/kafka/dead-letters';

export { FAILURE_HEADER_PREFIX, recordsToReplay } from '#layers/kafka/dead-letters';

export interface ReplayOptions {
  brokers: string[];
  prefix: string;
  topics: TopicName[];
  dryRun?: boolean;
  log?: (line: string) => void;
}

/** Replays the dead-letter records of `topics`; returns how many were sent back per source topic. */
export async function replayDeadLetters({
  brokers,
  prefix,
  topics,
  dryRun = false,
  log = console.log,
}: ReplayOptions): Promise<Record<string, number>> {
  const kafka = new Kafka({
    clientId: 'shopstream-dlq-replay',
    brokers,
    logLevel: logLevel.NOTHING,
    ...kafkaAuthOptions(),
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([admin.connect(), producer.connect()]);
  const replayed: Record<string, number> = {};
  try {
    for (const topic of topics) {
      const source = topicName(topic, prefix);
      const dlq = deadLetterTopic(source);
      replayed[source] = dryRun
        ? backlogSize(await deadLetterBacklog(admin, dlq))
        : await replayTopic(kafka, admin, producer, source, dlq, { log });
      log(
        `${deadLetterTopic(source)} → ${source}: ${replayed[source]} record(s)${dryRun ? ' (dry run, nothing sent)' : ''}`,
      );
    }
  } finally {
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  }
  return replayed;
}

export async function main(args: string[]): Promise<number> {
  const dryRun = args.includes('--dry-run');
  const names = args.filter((a) => !a.startsWith('--'));
  const known = Object.values(TOPICS) as string[];
  const topics = (args.includes('--all') ? known : names) as TopicName[];
  const unknown = topics.filter((t) => !known.includes(t));
  if (!topics.length || unknown.length) {
    console.error(
      `usage: npm run dlq:replay -- <topic>… | --all [--dry-run]\n  topics: ${known.join(', ')}${unknown.length ? `\n  unknown: ${unknown.join(', ')}` : ''}`,
    );
    return 2;
  }
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  await replayDeadLetters({ brokers, prefix: process.env.KAFKA_TOPIC_PREFIX ?? '', topics, dryRun });
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
