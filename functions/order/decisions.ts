/**
 * The order service's decisions, as pure functions over plain values: the statuses, which may be
 * cancelled, how long to wait before a retry, what to do after a payment step answered, and the
 * card number checks done at placement (format and Luhn checksum). The I/O around them is in
 * steps.ts.
 */
export const ORDER_STATUSES = [
  'PENDING',
  'RESERVED',
  'COMPLETED',
  'REJECTED',
  'FAILED',
  'CANCELLED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const isTerminal = (status: OrderStatus) =>
  status === 'COMPLETED' || status === 'REJECTED' || status === 'FAILED' || status === 'CANCELLED';

/** Cancel: PENDING and RESERVED become CANCELLED; CANCELLED stays (idempotent); others refuse. */
export function cancelDecision(status: OrderStatus): 'cancel' | 'already' | 'refuse' {
  if (status === 'PENDING' || status === 'RESERVED') return 'cancel';
  return status === 'CANCELLED' ? 'already' : 'refuse';
}

export interface RetryPolicy {
  /** 1 first attempt + 5 retries. */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  /** Pause between inquiries about a charge that is still settling. */
  inquiryDelayMs: number;
  /** After this many inquiries the attempt counts as failed (the processor lost it). */
  maxInquiries: number;
}

/**
 * Exponential backoff with "equal jitter": half of the exponential step is fixed, half random, so
 * retries spread out but the wait still grows with every attempt. `failedAttempt` is 1-based.
 */
export function backoffMs(
  failedAttempt: number,
  policy: Pick<RetryPolicy, 'baseMs' | 'capMs'>,
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** (failedAttempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** What the payment service told us about the current attempt. */
export type PaymentAnswer =
  | { kind: 'approved'; paymentId: string }
  | { kind: 'declined'; code: string }
  /** Transient failure (insufficient funds, processing error): a new attempt may succeed. */
  | { kind: 'failed'; code: string }
  /** The charge is recorded but has not settled yet (it outlived the charge call). */
  | { kind: 'pending' }
  /** No answer at all (the inquiry call failed too): ask again later, never charge blindly. */
  | { kind: 'unknown'; why: string }
  /**
   * The processor has no record of this attempt (yet): the charge call may never have arrived, or
   * may still be on its way (a cold start can outlast our timeout). Only after several inquiries
   * is it treated as lost and a new attempt made.
   */
  | { kind: 'absent' };

export type NextStep =
  | { kind: 'complete'; paymentId: string }
  | { kind: 'fail'; reason: string }
  | { kind: 'retry'; nextAttempt: number; delayMs: number; reason: string }
  | { kind: 'inquire'; inquiries: number; delayMs: number; reason: string };

export function decideAfterPayment(
  answer: PaymentAnswer,
  position: { attempt: number; inquiries: number },
  policy: RetryPolicy,
  random: () => number = Math.random,
): NextStep {
  switch (answer.kind) {
    case 'approved':
      return { kind: 'complete', paymentId: answer.paymentId };
    case 'declined':
      return { kind: 'fail', reason: `payment declined (${answer.code})` };
    case 'failed':
      return retryOrFail(position.attempt, answer.code, policy, random);
    case 'absent':
    case 'pending':
    case 'unknown': {
      const why =
        answer.kind === 'pending'
          ? 'still settling'
          : answer.kind === 'absent'
            ? 'not recorded by the processor yet'
            : answer.why;
      if (position.inquiries >= policy.maxInquiries)
        return retryOrFail(
          position.attempt,
          `no final answer after ${position.inquiries} inquiries`,
          policy,
          random,
        );
      return {
        kind: 'inquire',
        inquiries: position.inquiries + 1,
        delayMs: policy.inquiryDelayMs,
        reason: why,
      };
    }
  }
}

/**
 * A payment answer that met a cancelled order: whether a void must follow it. Only a declined or
 * failed charge certainly holds no money; an approval, a charge still settling, or one whose fate
 * is not known (yet) is voided.
 */
export function voidAfterCancel(answer: PaymentAnswer): boolean {
  return answer.kind !== 'declined' && answer.kind !== 'failed';
}

function retryOrFail(attempt: number, why: string, policy: RetryPolicy, random: () => number): NextStep {
  if (attempt >= policy.maxAttempts)
    return { kind: 'fail', reason: `payment failed after ${attempt} attempts (last: ${why})` };
  return {
    kind: 'retry',
    nextAttempt: attempt + 1,
    delayMs: backoffMs(attempt, policy, random),
    reason: why,
  };
}

export function isWellFormedCardNumber(cardNumber: string): boolean {
  if (!/^\d{13,19}$/.test(cardNumber)) return false;
  let sum = 0;
  for (let i = 0; i < cardNumber.length; i++) {
    let digit = Number(cardNumber[cardNumber.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
