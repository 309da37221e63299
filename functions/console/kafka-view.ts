/**
 * What the console reads from Kafka's admin API: each trigger's consumer lag, each dead-letter
 * topic's depth, the newest dead letters, and the replay. One admin connection per container;
 * a poll's figures are shared by every page polling within POLL_CACHE_MS, and a broker that does
 * not answer within KAFKA_BUDGET_MS makes these figures "unavailable" rather than the page slow.
 *
 * Consumer groups: the offline MSK triggers name theirs after a hash of the mapping
 * (infra/offline-msk/lib/config.js) and connect with client id `offline-msk-<function>`; the
 * console finds them by that client id and the topic assigned to them. On AWS the event source
 * mappings' groups are Lambda's own and AWS reports their lag as the CloudWatch metric OffsetLag,
 * which the console does not read: there the lag shows as unavailable, with that reason.
 */
import { AssignerProtocol, type Admin } from 'kafkajs';
import {
  backlogSize,
  deadLetterDepth,
  newestDeadLetters,
  replayTopic,
  type DeadLetter,
} from '#layers/kafka/dead-letters';
import { kafkaClient } from '#layers/kafka/producer';
import { TOPICS, deadLetterTopic, topicName, type TopicName } from '#layers/topics';
import { KAFKA_HOPS, type KafkaHop } from './flow.ts';

const POLL_CACHE_MS = 900;
const KAFKA_BUDGET_MS = 5000;
const FRESH_WAIT_MS = 400;
const DISCOVERY_EVERY_MS = 15_000;
const TOPICS_EVERY_MS = 30_000;
const LOCAL_CLIENT_PREFIX = 'offline-msk-';

export const LAG_UNAVAILABLE_REASON =
  'no running trigger of this function consumes the topic as a group the console can find: locally the offline MSK triggers connect as offline-msk-<function>; on AWS, Lambda reports a mapping’s lag as the CloudWatch metric OffsetLag (namespace AWS/Lambda), which this console does not read';

export interface TriggerLag {
  hop: string;
  function: string;
  groupId: string | null;
  lag: number | null;
  unavailable?: string;
}

export interface DeadLetterDepth {
  topic: TopicName;
  deadLetterTopic: string;
  /** Records not yet replayed. */
  waiting: number;
  /** Records the topic holds (replayed or not). */
  total: number;
}

export interface KafkaFigures {
  ok: boolean;
  error?: string;
  lag: TriggerLag[];
  deadLetters: DeadLetterDepth[];
}

let adminConnection: Promise<Admin> | undefined;
function admin(): Promise<Admin> {
  adminConnection ??= (async () => {
    const instance = kafkaClient().admin();
    await instance.connect();
    return instance;
  })().catch((error: unknown) => {
    adminConnection = undefined;
    throw error;
  });
  return adminConnection;
}

async function dropAdmin(): Promise<void> {
  const current = adminConnection;
  adminConnection = undefined;
  await (await current?.catch(() => undefined))?.disconnect().catch(() => {});
}

function withinBudget<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Kafka did not answer ${what} within ${KAFKA_BUDGET_MS} ms`)),
      KAFKA_BUDGET_MS,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

// Discovery state, per container: topic → group of the trigger consuming it, and the groups
// already looked at that belong to something else (tests, other stacks on a shared broker).
const groupOfTopic = new Map<string, string>();
const unrelatedGroups = new Set<string>();
let discoveredAt = 0;
let discoveryError: string | undefined;
let existingTopics: { at: number; names: Set<string> } | undefined;

async function discoverGroups(client: Admin, prefix: string): Promise<void> {
  const wanted = new Map(
    KAFKA_HOPS.map((hop) => [`${LOCAL_CLIENT_PREFIX}${hop.function}|${prefix}${hop.topic}`, hop]),
  );
  const { groups } = await client.listGroups();
  const fresh = groups
    .filter(
      (g) =>
        g.protocolType === 'consumer' &&
        !unrelatedGroups.has(g.groupId) &&
        ![...groupOfTopic.values()].includes(g.groupId),
    )
    .map((g) => g.groupId);
  if (!fresh.length) return;
  const { groups: described } = await client.describeGroups(fresh);
  for (const group of described) {
    let related = false;
    for (const member of group.members) {
      const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
      for (const topic of Object.keys(assignment?.assignment ?? {})) {
        if (wanted.has(`${member.clientId}|${topic}`)) {
          groupOfTopic.set(topic, group.groupId);
          related = true;
        }
      }
    }
    // A group with no members yet may still become a trigger's (it is rebalancing): look again later.
    if (!related && group.members.length) unrelatedGroups.add(group.groupId);
  }
}

async function topicsThatExist(client: Admin): Promise<Set<string>> {
  if (!existingTopics || Date.now() - existingTopics.at > TOPICS_EVERY_MS) {
    existingTopics = { at: Date.now(), names: new Set(await client.listTopics()) };
  }
  return existingTopics.names;
}

async function lagOf(client: Admin, hop: KafkaHop, topic: string): Promise<TriggerLag> {
  const groupId = groupOfTopic.get(topic) ?? null;
  const base = { hop: hop.id, function: hop.function, groupId };
  if (!groupId) return { ...base, lag: null, unavailable: discoveryError ?? LAG_UNAVAILABLE_REASON };
  const [[committed], ends] = await Promise.all([
    client.fetchOffsets({ groupId, topics: [topic] }),
    client.fetchTopicOffsets(topic),
  ]);
  let lag = 0;
  for (const end of ends) {
    const offset = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
    lag += Math.max(0, Number(end.high) - (offset >= 0 ? offset : Number(end.low)));
  }
  return { ...base, lag };
}

async function readFigures(prefix: string): Promise<KafkaFigures> {
  const client = await admin();
  const exists = await topicsThatExist(client);
  const missing = KAFKA_HOPS.some((hop) => !groupOfTopic.has(prefix + hop.topic));
  if (missing && Date.now() - discoveredAt > DISCOVERY_EVERY_MS) {
    discoveredAt = Date.now();
    // A broker that will not list its groups (an ACL, an IAM policy) costs the lag, not the rest.
    discoveryError = await discoverGroups(client, prefix).then(
      () => undefined,
      (error: unknown) => `the console may not list the consumer groups: ${(error as Error).message}`,
    );
  }
  const [lag, deadLetters] = await Promise.all([
    Promise.all(
      KAFKA_HOPS.map((hop) =>
        exists.has(prefix + hop.topic)
          ? lagOf(client, hop, prefix + hop.topic)
          : {
              hop: hop.id,
              function: hop.function,
              groupId: null,
              lag: null,
              unavailable: `topic ${prefix + hop.topic} does not exist yet`,
            },
      ),
    ),
    Promise.all(
      Object.values(TOPICS).map(async (topic): Promise<DeadLetterDepth> => {
        const dlq = deadLetterTopic(topicName(topic, prefix));
        if (!exists.has(dlq)) return { topic, deadLetterTopic: dlq, waiting: 0, total: 0 };
        const { backlog, total } = await deadLetterDepth(client, dlq);
        return { topic, deadLetterTopic: dlq, waiting: backlogSize(backlog), total };
      }),
    ),
  ]);
  return { ok: true, lag, deadLetters };
}

const unavailable = (reason: string): KafkaFigures => ({
  ok: false,
  error: reason,
  lag: KAFKA_HOPS.map((hop) => ({
    hop: hop.id,
    function: hop.function,
    groupId: null,
    lag: null,
    unavailable: `Kafka: ${reason}`,
  })),
  deadLetters: [],
});

let current: { at: number; figures: KafkaFigures } | undefined;
let refreshing: Promise<void> | undefined;

/**
 * Lag and dead-letter depths, refreshed when older than POLL_CACHE_MS. A poll waits at most
 * FRESH_WAIT_MS for the refresh and otherwise answers with the previous figures and their time
 * (`asOf`): a slow broker makes the Kafka figures older, never the page's database figures.
 * Never throws.
 */
export async function kafkaFigures(prefix: string): Promise<KafkaFigures & { asOf: string | null }> {
  if (!refreshing && (!current || Date.now() - current.at > POLL_CACHE_MS)) {
    const started = Date.now();
    refreshing = withinBudget(readFigures(prefix), 'the console’s offset requests')
      .catch(async (error: unknown) => {
        await dropAdmin();
        existingTopics = undefined;
        return unavailable((error as Error).message);
      })
      .then((figures) => {
        current = { at: started, figures };
      })
      .finally(() => (refreshing = undefined));
  }
  if (refreshing) {
    let timer: NodeJS.Timeout | undefined;
    const patience = current ? FRESH_WAIT_MS : KAFKA_BUDGET_MS;
    await Promise.race([refreshing, new Promise((resolve) => (timer = setTimeout(resolve, patience)))]);
    clearTimeout(timer);
  }
  if (!current) return { ...unavailable('the first offset requests are still running'), asOf: null };
  return { ...current.figures, asOf: new Date(current.at).toISOString() };
}

const NEWEST = 5;
const newestCache = new Map<string, { ends: string; letters: DeadLetter[] }>();

export interface DeadLetterView extends DeadLetterDepth {
  records: (DeadLetter & { waiting: boolean })[];
}

/** The newest dead letters of one topic; re-read only when the topic has grown. */
export async function deadLetterView(topic: TopicName, prefix: string): Promise<DeadLetterView> {
  const dlq = deadLetterTopic(topicName(topic, prefix));
  const client = await admin();
  const exists = await topicsThatExist(client);
  if (!exists.has(dlq)) return { topic, deadLetterTopic: dlq, waiting: 0, total: 0, records: [] };
  const [{ backlog, total }, ends] = await Promise.all([
    deadLetterDepth(client, dlq),
    client.fetchTopicOffsets(dlq),
  ]);
  const signature = ends.map((e) => `${e.partition}:${e.high}`).join(',');
  let cached = newestCache.get(dlq);
  if (cached?.ends !== signature) {
    cached = { ends: signature, letters: await newestDeadLetters(kafkaClient(), client, dlq, NEWEST) };
    newestCache.set(dlq, cached);
  }
  const records = cached.letters.map((letter) => ({
    ...letter,
    waiting: letter.offset >= (backlog.get(letter.partition)?.from ?? Infinity),
  }));
  return { topic, deadLetterTopic: dlq, waiting: backlogSize(backlog), total, records };
}

/** What `npm run dlq:replay -- <topic>` does, once: the waiting records go back to the source topic. */
export async function replay(topic: TopicName, prefix: string, timeoutMs: number) {
  const source = topicName(topic, prefix);
  const dlq = deadLetterTopic(source);
  const kafka = kafkaClient();
  const client = await admin();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    const replayed = await replayTopic(kafka, client, producer, source, dlq, { timeoutMs });
    current = undefined; // the next poll waits for the new depths
    return { topic, deadLetterTopic: dlq, source, replayed };
  } finally {
    await producer.disconnect();
  }
}
