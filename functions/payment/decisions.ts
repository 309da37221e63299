/**
 * The payment processor simulator's decision table (DESIGN.md, "Payment simulator"): which outcome
 * a card gets on a given attempt. Pure: the test cards decide deterministically, and any other
 * card goes through the seeded chaos mode, where the same seed and `orderId:attempt` always give
 * the same outcome, so a chaos run can be replayed.
 */
import { createHash } from 'node:crypto';

export type SimulatedOutcome =
  | { kind: 'approved' }
  | { kind: 'declined'; code: string }
  | { kind: 'failed'; code: string }
  /** The charge outlives the caller's timeout, then settles approved. */
  | { kind: 'slow-approval' };

export const TEST_CARDS = {
  approved: '4242424242424242',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  processingError: '4000000000000119',
  timeout: '4000000000000408',
  approvedOnThirdAttempt: '4000000000000036',
} as const;

export interface ChaosSettings {
  failureRate: number;
  timeoutRate: number;
  seed: string;
}

export function simulateCharge(
  cardNumber: string,
  orderId: string,
  attempt: number,
  chaos: ChaosSettings,
): SimulatedOutcome {
  switch (cardNumber) {
    case TEST_CARDS.approved:
      return { kind: 'approved' };
    case TEST_CARDS.declined:
      return { kind: 'declined', code: 'card_declined' };
    case TEST_CARDS.insufficientFunds:
      return { kind: 'failed', code: 'insufficient_funds' };
    case TEST_CARDS.processingError:
      return { kind: 'failed', code: 'processing_error' };
    case TEST_CARDS.timeout:
      return { kind: 'slow-approval' };
    case TEST_CARDS.approvedOnThirdAttempt:
      return attempt <= 2 ? { kind: 'failed', code: 'insufficient_funds' } : { kind: 'approved' };
    default: {
      const draw = seededUniform(chaos.seed, `${orderId}:${attempt}`);
      if (draw < chaos.failureRate) return { kind: 'failed', code: 'processing_error' };
      if (draw < chaos.failureRate + chaos.timeoutRate) return { kind: 'slow-approval' };
      return { kind: 'approved' };
    }
  }
}

/** A number in [0, 1) determined by the seed and the key (first 48 bits of their SHA-256). */
export function seededUniform(seed: string, key: string): number {
  const digest = createHash('sha256').update(`${seed}\u0000${key}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
