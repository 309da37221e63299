/**
 * The envelope every shopstream event travels in (Kafka record value, JSON). `eventId` is what
 * consumers de-duplicate on: a re-published outbox row keeps its id even at a new offset.
 */
import { z } from 'zod';

export const EventEnvelope = z.object({
  eventId: z.uuid(),
  type: z.string().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
  data: z.unknown(),
});
export type EventEnvelope<T = unknown> = Omit<z.infer<typeof EventEnvelope>, 'data'> & { data: T };

/** Kafka header that carries the correlation id (the order id in the saga) across hops. */
export const CORRELATION_HEADER = 'correlation-id';
