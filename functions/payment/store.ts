/** SQL of the payment ledger (payment.payments): one row per charge attempt, keyed by its UUIDv5. */
import type { Queryable } from '#layers/db';
import type { PaymentStatus } from '#layers/schemas/payment';

export interface PaymentRow {
  id: string;
  orderId: string;
  attempt: number;
  amount: number;
  currency: string;
  status: PaymentStatus;
  failureCode: string | null;
  retryable: boolean;
  cardLast4: string;
  createdAt: Date;
  settledAt: Date | null;
  settleAt: Date | null;
}

/** A payment as the processor records it; the database stamps createdAt, settling sets settledAt. */
export type NewPayment = Omit<PaymentRow, 'createdAt' | 'settledAt'>;

const columns = (sql: Queryable) =>
  sql`id, order_id, attempt, amount::float8 as amount, currency, status, failure_code, retryable, card_last4, created_at, settled_at, settle_at`;

/** Inserts the payment unless the attempt already has one; returns the stored row either way. */
export async function insertPaymentOnce(
  sql: Queryable,
  payment: NewPayment,
): Promise<{ row: PaymentRow; created: boolean }> {
  const settled = payment.status === 'PENDING' ? null : new Date();
  const [created] = await sql<PaymentRow[]>`
    insert into payment.payments (id, order_id, attempt, amount, currency, status, failure_code, retryable, card_last4, settle_at, settled_at, answered_at)
    values (${payment.id}, ${payment.orderId}, ${payment.attempt}, ${payment.amount}, ${payment.currency}, ${payment.status},
            ${payment.failureCode}, ${payment.retryable}, ${payment.cardLast4}, ${payment.settleAt}, ${settled}, ${settled})
    on conflict (id) do nothing
    returning ${columns(sql)}`;
  if (created) return { row: created, created: true };
  const existing = await findPayment(sql, payment.id);
  if (!existing) throw new Error(`payment ${payment.id} conflicted but cannot be read`);
  return { row: existing, created: false };
}

export async function findPayment(sql: Queryable, id: string): Promise<PaymentRow | undefined> {
  const [row] = await sql<PaymentRow[]>`select ${columns(sql)} from payment.payments where id = ${id}`;
  return row;
}

/**
 * Settles a pending slow charge once its time has come (idempotent): approved, unless another
 * attempt of the order was approved meanwhile — then it is declined rather than charged twice.
 */
export async function settleDuePayment(sql: Queryable, id: string): Promise<PaymentRow | undefined> {
  const [row] = await sql<PaymentRow[]>`
    with already_paid as (
      select exists (
        select 1 from payment.payments o
        where o.order_id = (select order_id from payment.payments where id = ${id}) and o.status = 'APPROVED'
      ) as paid
    )
    update payment.payments set
      status = case when (select paid from already_paid) then 'DECLINED' else 'APPROVED' end,
      failure_code = case when (select paid from already_paid) then 'order_already_paid' else null end,
      settled_at = now()
    where id = ${id} and status = 'PENDING' and settle_at <= now()
    returning ${columns(sql)}`;
  return row;
}

/** The slow charge's call has woken up and answers now (what it answers was settled just before). */
export async function markAnswered(sql: Queryable, id: string): Promise<void> {
  await sql`update payment.payments set answered_at = coalesce(answered_at, now()) where id = ${id}`;
}

export async function findApprovedPayment(sql: Queryable, orderId: string): Promise<PaymentRow | undefined> {
  const [row] = await sql<
    PaymentRow[]
  >`select ${columns(sql)} from payment.payments where order_id = ${orderId} and status = 'APPROVED'`;
  return row;
}

export async function listPaymentsOfOrder(sql: Queryable, orderId: string): Promise<PaymentRow[]> {
  return sql<
    PaymentRow[]
  >`select ${columns(sql)} from payment.payments where order_id = ${orderId} order by attempt`;
}

/** Voids the order's pending and approved charges; a voided pending charge never settles. */
export async function voidOpenPayments(sql: Queryable, orderId: string): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    update payment.payments set status = 'VOIDED', settled_at = now()
    where order_id = ${orderId} and status in ('PENDING', 'APPROVED')
    returning id`;
  return rows.map((row) => row.id);
}
