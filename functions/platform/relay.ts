/**
 * The outbox relay, run on a schedule (every minute). Each run keeps publishing due outbox rows
 * for most of a minute, polling every RELAY_POLL_MS, so delayed re-enqueues (payment retries)
 * go out within a poll interval of their time rather than at the next schedule tick.
 */
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { db } from '#layers/db';
import { readEnv } from '#layers/env';
import { logger } from '#layers/observability';
import { publishDue } from '#layers/outbox';

const RelayEnv = z.object({
  RELAY_POLL_MS: z.coerce.number().int().positive().default(100),
  /** How long one invocation keeps polling; a little less than the schedule period. */
  RELAY_RUN_SECONDS: z.coerce.number().positive().default(58),
});

export async function handler(_event: unknown, context: Context): Promise<{ published: number }> {
  const env = readEnv(RelayEnv);
  const deadline = Date.now() + env.RELAY_RUN_SECONDS * 1000;
  let published = 0;
  while (Date.now() < deadline && context.getRemainingTimeInMillis() > 3000) {
    try {
      const sent = await publishDue(db());
      published += sent;
      if (sent === 0) await new Promise((resolve) => setTimeout(resolve, env.RELAY_POLL_MS));
    } catch (error) {
      logger.warn('relay pass failed; retrying', { error: error as Error });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  logger.info('relay run finished', { published });
  return { published };
}
