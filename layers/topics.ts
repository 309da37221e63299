/**
 * The Kafka topics shopstream's services talk over. Every event is keyed by the id of the
 * aggregate it concerns (order id, product id), so one aggregate's events stay in order on
 * one partition. serverless.yml names the same topics in its `msk` events; a test checks
 * that the two lists agree.
 */
export const TOPICS = {
  productCreated: 'product.created',
  productUpdated: 'product.updated',
  productDeleted: 'product.deleted',
  orderPlaced: 'order.placed',
  stockReserved: 'stock.reserved',
  stockRejected: 'stock.rejected',
  paymentRequested: 'payment.requested',
  orderCompleted: 'order.completed',
  orderFailed: 'order.failed',
  orderCancelled: 'order.cancelled',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** Partitions per topic when the project creates its topics (locally and in the MSK setup). */
export const TOPIC_PARTITIONS = 6;

/**
 * The physical topic name. `KAFKA_TOPIC_PREFIX` lets several stacks share one broker (the test
 * suite uses a fresh prefix per run, so it never consumes a developer's `npm start` traffic).
 */
export function topicName(topic: TopicName, prefix = process.env.KAFKA_TOPIC_PREFIX ?? ''): string {
  return `${prefix}${topic}`;
}

/** Dead-letter topic of a Kafka trigger (the offline MSK plugin's and AWS's on-failure destination). */
export const deadLetterTopic = (topic: string) => `${topic}.dlq`;
