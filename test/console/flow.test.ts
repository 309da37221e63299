/**
 * The console's picture of the saga (functions/console/flow.ts): every Kafka hop it draws is a
 * trigger some function really has, and its diagnosis of an order says where it waits or stopped.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { KAFKA_HOPS, diagnose, type JourneyEvent } from '../../functions/console/flow.ts';

/** function key → topics of its msk events, read from functions/<service>/*.yml. */
function triggers(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const service of readdirSync('functions', { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(path.join('functions', service.name)).filter((f) => f.endsWith('.yml'))) {
      let current = '';
      for (const line of readFileSync(path.join('functions', service.name, file), 'utf8').split('\n')) {
        const fn = /^([A-Za-z]\w*):\s*$/.exec(line);
        if (fn) current = fn[1]!;
        const topic = /^\s+topic: \$\{env:KAFKA_TOPIC_PREFIX, ''\}(\S+)/.exec(line);
        if (topic) found.set(current, [...(found.get(current) ?? []), topic[1]!]);
      }
    }
  }
  return found;
}

it('draws exactly the Kafka triggers the functions declare', () => {
  const declared = [...triggers()]
    .flatMap(([fn, topics]) => topics.map((topic) => `${fn} ← ${topic}`))
    .sort();
  expect(KAFKA_HOPS.map((hop) => `${hop.function} ← ${hop.topic}`).sort()).toEqual(declared);
});

describe('diagnose', () => {
  const now = new Date('2026-01-01T12:01:00Z');
  const at = (secondsAgo: number) => new Date(now.getTime() - secondsAgo * 1000).toISOString();
  const event = (over: Partial<JourneyEvent>): JourneyEvent => ({
    topic: 'order.placed',
    type: 'OrderPlaced',
    createdAt: at(50),
    availableAt: at(50),
    publishedAt: at(50),
    appliedAt: at(49),
    ...over,
  });
  const pending = { status: 'PENDING' as const, failureReason: null, updatedAt: at(50) };

  it('a terminal order with everything applied is finished, with its reason', () => {
    const d = diagnose(
      { status: 'FAILED', failureReason: 'card declined', updatedAt: at(1) },
      [event({})],
      [],
      now,
    );
    expect(d).toEqual({ state: 'finished', hop: null, summary: 'FAILED: card declined' });
  });

  it('an event published long ago and not applied is stuck at its hop, and names the trigger', () => {
    const d = diagnose(pending, [event({ appliedAt: null })], [], now);
    expect(d).toMatchObject({ state: 'stuck', hop: 'order.placed', awaiting: 'order.placed' });
    expect(d.summary).toContain('not yet applied by reserveStock');
  });

  it('a dead letter for the order says why it stopped', () => {
    const d = diagnose(pending, [event({ appliedAt: null })], [], now, {
      topic: 'order.placed',
      error: 'boom',
    });
    expect(d).toEqual({
      state: 'stuck',
      hop: 'order.placed',
      summary: 'dead-lettered on order.placed.dlq: boom. Replay it once the cause is fixed.',
    });
  });

  it('a payment retry due later is waiting for its backoff', () => {
    const retry = event({
      topic: 'payment.requested',
      type: 'PaymentRequested',
      action: 'charge',
      attempt: 2,
      availableAt: new Date(now.getTime() + 4000).toISOString(),
      publishedAt: null,
      appliedAt: null,
    });
    const d = diagnose({ ...pending, status: 'RESERVED' }, [event({}), retry], [], now);
    expect(d).toMatchObject({ state: 'waiting', hop: 'payment.requested' });
    expect(d.summary).toBe('payment.requested (charge, attempt 2) scheduled: due in 4 s (retry backoff)');
  });

  it('a charge that has not settled for long is stuck at the Lambda Invoke', () => {
    const d = diagnose(
      { ...pending, status: 'RESERVED' },
      [event({})],
      [{ attempt: 1, status: 'PENDING', failureCode: null, createdAt: at(40), settledAt: null }],
      now,
    );
    expect(d).toMatchObject({ state: 'stuck', hop: 'payment.charge' });
  });
});
