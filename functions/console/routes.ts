/**
 * HTTP routes of the live console's JSON endpoints (the page itself, GET /console, is served by
 * page.ts like /swagger). Reads are public, like the rest of the API's reads; the replay changes
 * state and needs the admin key.
 */
import { z } from 'zod';
import { defineRoute } from '#layers/http/route';
import { TOPICS } from '#layers/topics';
import { HOPS, ORDER_STATUSES, SERVICES } from './flow.ts';

const Timestamp = z.iso.datetime({ offset: true });
const TopicSchema = z.enum(Object.values(TOPICS)).meta({ id: 'Topic' });
const StatusSchema = z.enum(ORDER_STATUSES);
const Milliseconds = z.number().nullable().describe('null while nothing was measured in the window');

const OrderSummary = z.object({
  id: z.uuid(),
  status: StatusSchema,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const DeadLetterDepthSchema = z.object({
  topic: TopicSchema,
  deadLetterTopic: z.string(),
  waiting: z.number().int().describe('Records not yet replayed'),
  total: z.number().int().describe('Records the dead-letter topic holds, replayed or not'),
});

export const SnapshotSchema = z
  .object({
    at: Timestamp,
    scope: z.object({ customerId: z.uuid() }).nullable(),
    windows: z.object({ latencySeconds: z.number().int(), rateSeconds: z.number().int() }),
    services: z.array(z.enum(SERVICES)),
    hops: z.array(
      z.object({
        id: z.enum(HOPS.map((hop) => hop.id) as [string, ...string[]]),
        kind: z.enum(['kafka', 'invoke']),
        from: z.enum(SERVICES),
        to: z.enum(SERVICES),
        function: z.string(),
        perSecond: z.number().describe('Records applied per second over the rate window'),
        p50Ms: Milliseconds.describe(
          'Median time from an event being due to its consumer applying it, over the latency window',
        ),
        p99Ms: Milliseconds,
        inFlight: z
          .number()
          .int()
          .describe('Events of the latency window not yet applied (charges not yet settled)'),
        lag: z
          .number()
          .int()
          .nullable()
          .describe("The trigger's consumer lag in records; null when unavailable"),
        lagUnavailable: z.string().optional().describe('Why the lag is not shown'),
        latencyUnavailable: z.string().optional().describe('Why the latency is not shown'),
      }),
    ),
    statuses: z.record(StatusSchema, z.number().int()),
    recent: z.array(OrderSummary),
    inFlight: z.array(OrderSummary).describe('The oldest orders not yet terminal'),
    stock: z.array(
      z.object({
        productId: z.uuid(),
        sku: z.string().nullable(),
        name: z.string().nullable(),
        onHand: z.number().int(),
        reserved: z.number().int(),
        available: z.number().int(),
      }),
    ),
    outbox: z.object({ due: z.number().int(), scheduled: z.number().int() }),
    kafka: z.object({
      ok: z.boolean(),
      asOf: Timestamp.nullable().describe(
        'When the lag and dead-letter figures were read (they may trail `at` when the broker is slow)',
      ),
      error: z.string().optional(),
    }),
    deadLetters: z.array(DeadLetterDepthSchema),
  })
  .meta({ id: 'ConsoleSnapshot' });

export const JourneySchema = z
  .object({
    at: Timestamp,
    order: z.object({
      id: z.uuid(),
      customerId: z.uuid(),
      status: StatusSchema,
      total: z.number().int(),
      currency: z.string(),
      paymentAttempts: z.number().int(),
      failureReason: z.string().nullable(),
      createdAt: Timestamp,
      updatedAt: Timestamp,
    }),
    diagnosis: z.object({
      state: z.enum(['finished', 'waiting', 'stuck']),
      hop: z.string().nullable(),
      summary: z.string(),
      awaiting: TopicSchema.optional(),
    }),
    timeline: z.array(
      z.object({ id: z.number().int(), at: Timestamp, status: z.string(), detail: z.string() }),
    ),
    events: z.array(
      z.object({
        id: z.number().int(),
        topic: TopicSchema,
        type: z.string(),
        createdAt: Timestamp,
        availableAt: Timestamp,
        publishedAt: Timestamp.nullable(),
        appliedAt: Timestamp.nullable(),
        action: z.string().nullable(),
        attempt: z.number().int().nullable(),
        backoffMs: z
          .number()
          .nullable()
          .describe(
            'How long a delayed payment step (retry, inquiry) waited for its backoff; null for other events',
          ),
      }),
    ),
    payments: z.array(
      z.object({
        attempt: z.number().int(),
        status: z.string(),
        failureCode: z.string().nullable(),
        createdAt: Timestamp,
        settledAt: Timestamp.nullable(),
      }),
    ),
    reservations: z.array(
      z.object({
        productId: z.uuid(),
        quantity: z.number().int(),
        status: z.string(),
        createdAt: Timestamp,
        updatedAt: Timestamp,
      }),
    ),
  })
  .meta({ id: 'ConsoleOrderJourney' });

export const DeadLettersSchema = DeadLetterDepthSchema.extend({
  records: z.array(
    z.object({
      partition: z.number().int(),
      offset: z.number().int(),
      at: Timestamp,
      key: z.string().nullable(),
      sourceTopic: z.string().optional(),
      sourcePartition: z.number().int().optional(),
      sourceOffset: z.number().int().optional(),
      function: z.string().optional(),
      condition: z.string().optional(),
      error: z.string().optional(),
      attempts: z.number().int().optional(),
      valuePreview: z.string(),
      waiting: z.boolean().describe('Not yet replayed'),
    }),
  ),
}).meta({ id: 'ConsoleDeadLetters' });

export const ReplaySchema = z
  .object({ topic: TopicSchema, deadLetterTopic: z.string(), source: z.string(), replayed: z.number().int() })
  .meta({ id: 'ConsoleReplay' });

const TopicParams = z.object({ topic: TopicSchema });

export const getConsoleSnapshot = defineRoute({
  operationId: 'getConsoleSnapshot',
  method: 'get',
  path: '/console/snapshot',
  summary: 'What the live console shows: hops, lag, orders per status, recent orders, stock, dead letters',
  tags: ['Console'],
  query: z.object({ customerId: z.uuid().optional().describe("Count only this customer's orders") }),
  response: { status: 200, description: 'The live figures', schema: SnapshotSchema },
  problems: [503],
});

export const getConsoleOrder = defineRoute({
  operationId: 'getConsoleOrder',
  method: 'get',
  path: '/console/orders/{id}',
  summary: "One order's journey through the saga, and where it stands or stopped",
  tags: ['Console'],
  params: z.object({ id: z.uuid() }),
  response: { status: 200, description: 'The journey', schema: JourneySchema },
  problems: [404, 503],
});

export const getConsoleDeadLetters = defineRoute({
  operationId: 'getConsoleDeadLetters',
  method: 'get',
  path: '/console/dead-letters/{topic}',
  summary: 'The newest records of <topic>.dlq with their error and source offset',
  tags: ['Console'],
  params: TopicParams,
  response: { status: 200, description: 'The dead letters', schema: DeadLettersSchema },
  problems: [503],
});

export const replayConsoleDeadLetters = defineRoute({
  operationId: 'replayConsoleDeadLetters',
  method: 'post',
  path: '/console/dead-letters/{topic}/replay',
  summary:
    'Sends the waiting records of <topic>.dlq back to <topic>, once (what `npm run dlq:replay -- <topic>` does)',
  tags: ['Console'],
  admin: true,
  params: TopicParams,
  response: { status: 200, description: 'How many records went back', schema: ReplaySchema },
  problems: [503],
});

export const consoleRoutes = [
  getConsoleSnapshot,
  getConsoleOrder,
  getConsoleDeadLetters,
  replayConsoleDeadLetters,
];
