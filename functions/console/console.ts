/**
 * The console's operations: the live snapshot (database figures and Kafka figures side by side),
 * one order's journey with its diagnosis, the newest dead letters of a topic, and their replay.
 */
import { z } from 'zod';
import { db } from '#layers/db';
import { readEnv } from '#layers/env';
import { DependencyError, NotFoundError } from '#layers/errors';
import type { TopicName } from '#layers/topics';
import { HOPS, ORDER_STATUSES, SERVICES, diagnose, type JourneyEvent, type OrderStatus } from './flow.ts';
import { deadLetterView, kafkaFigures, replay } from './kafka-view.ts';
import { LATENCY_WINDOW_S, RATE_WINDOW_S, readJourney, readSnapshot } from './store.ts';

export const INVOKE_LATENCY_UNAVAILABLE =
  "the tables do not time the charge call (the Lambda's Duration metric does); see processPayment's hop for the whole payment step";

const ConsoleEnv = z.object({ KAFKA_TOPIC_PREFIX: z.string().default('') });
const prefix = () => readEnv(ConsoleEnv).KAFKA_TOPIC_PREFIX;

export async function snapshot(customerId?: string) {
  const [rows, kafka] = await Promise.all([readSnapshot(db(), prefix(), customerId), kafkaFigures(prefix())]);
  const statuses = Object.fromEntries(
    ORDER_STATUSES.map((status) => [status, rows.statuses[status] ?? 0]),
  ) as Record<OrderStatus, number>;
  return {
    at: rows.now,
    scope: customerId ? { customerId } : null,
    windows: { latencySeconds: LATENCY_WINDOW_S, rateSeconds: RATE_WINDOW_S },
    services: [...SERVICES],
    hops: HOPS.map((hop) => {
      const figures = rows.hops.find((f) => f.hop === hop.id);
      const lag = kafka.lag.find((l) => l.hop === hop.id);
      return {
        id: hop.id,
        kind: hop.kind,
        from: hop.from,
        to: hop.to,
        function: hop.function,
        perSecond: figures?.perSecond ?? 0,
        p50Ms: figures?.p50Ms ?? null,
        p99Ms: figures?.p99Ms ?? null,
        inFlight: figures?.inFlight ?? 0,
        lag: hop.kind === 'kafka' ? (lag?.lag ?? null) : null,
        ...(hop.kind === 'kafka' && lag?.unavailable ? { lagUnavailable: lag.unavailable } : {}),
        ...(hop.kind === 'invoke' ? { latencyUnavailable: INVOKE_LATENCY_UNAVAILABLE } : {}),
      };
    }),
    statuses,
    recent: rows.recent,
    inFlight: rows.inFlight,
    stock: rows.stock,
    outbox: rows.outbox,
    kafka: { ok: kafka.ok, asOf: kafka.asOf, ...(kafka.error ? { error: kafka.error } : {}) },
    deadLetters: kafka.deadLetters,
  };
}

/** How long a delayed payment step (a retry, an inquiry) waited by design; null for the others. */
function backoffOf(event: JourneyEvent): number | null {
  const delayed =
    event.topic === 'payment.requested' && (event.action === 'inquire' || (event.attempt ?? 1) > 1);
  return delayed ? Math.max(0, Date.parse(event.availableAt) - Date.parse(event.createdAt)) : null;
}

export async function orderJourney(orderId: string) {
  const rows = await readJourney(db(), orderId, prefix());
  if (!rows.order) throw new NotFoundError(`No order ${orderId}.`);
  const now = new Date(rows.now);
  let diagnosis = diagnose(rows.order, rows.events, rows.payments, now);
  if (diagnosis.awaiting) {
    // The event may be waiting in vain: a trigger that gave up on it dead-lettered it.
    const topic = diagnosis.awaiting;
    const letters = await deadLetters(topic).catch(() => undefined);
    const letter = letters?.records.find((record) => record.key === orderId && record.waiting);
    if (letter)
      diagnosis = diagnose(rows.order, rows.events, rows.payments, now, { topic, error: letter.error });
  }
  return {
    at: rows.now,
    order: rows.order,
    diagnosis,
    timeline: rows.timeline,
    events: rows.events.map((event) => ({ ...event, backoffMs: backoffOf(event) })),
    payments: rows.payments,
    reservations: rows.reservations,
  };
}

/** Kafka failures are the broker's, not the request's: 503, retry. */
const kafkaUnavailable = (what: string) => (error: unknown) => {
  throw new DependencyError(
    `Kafka did not answer while ${what}: ${(error as Error).message}. Retry shortly.`,
    { cause: error },
  );
};

export const deadLetters = (topic: TopicName) =>
  deadLetterView(topic, prefix()).catch(kafkaUnavailable(`reading ${topic}.dlq`));

export const replayDeadLetters = (topic: TopicName, timeoutMs: number) =>
  replay(topic, prefix(), timeoutMs).catch(kafkaUnavailable(`replaying ${topic}.dlq`));
