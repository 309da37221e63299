/**
 * DESIGN.md's invariants, checked against the database after each saga test:
 * - for every product 0 <= reserved <= on hand, and — for every product the saga has reserved —
 *   reserved equals the sum of HELD reservations (other suites set `reserved` by SQL on their own
 *   products to test stock rules; those products have no reservations and are left out);
 * - at most one APPROVED payment per order;
 * - FAILED, REJECTED and CANCELLED orders hold no stock.
 * The last one trails the order's status by one Kafka hop (settleReservation), so it is awaited.
 */
import { eventually } from './api.ts';
import { testDb } from './fixtures.ts';

export async function violations(): Promise<string[]> {
  const sql = testDb();
  const found: string[] = [];
  const stock = await sql<{ productId: string; onHand: number; reserved: number; held: number }[]>`
    select s.product_id, s.on_hand, s.reserved, coalesce(sum(r.quantity) filter (where r.status = 'HELD'), 0)::int as held
    from inventory.stock s left join inventory.reservations r on r.product_id = s.product_id
    group by s.product_id
    having s.reserved < 0 or s.reserved > s.on_hand
        or (count(r.order_id) > 0 and s.reserved <> coalesce(sum(r.quantity) filter (where r.status = 'HELD'), 0))`;
  for (const row of stock)
    found.push(`product ${row.productId}: on hand ${row.onHand}, reserved ${row.reserved}, held ${row.held}`);
  const approvals = await sql<{ orderId: string; approved: number }[]>`
    select order_id, count(*)::int as approved from payment.payments where status = 'APPROVED' group by order_id having count(*) > 1`;
  for (const row of approvals) found.push(`order ${row.orderId}: ${row.approved} approved payments`);
  const holding = await sql<{ id: string; status: string }[]>`
    select distinct o.id, o.status from orders.orders o join inventory.reservations r on r.order_id = o.id
    where o.status in ('FAILED', 'REJECTED', 'CANCELLED') and r.status = 'HELD'`;
  for (const row of holding) found.push(`order ${row.id} is ${row.status} but still holds stock`);
  return found;
}

export async function expectInvariants(): Promise<void> {
  let last: string[] = [];
  try {
    await eventually(async () => (last = await violations()).length === 0, {
      timeoutMs: 10_000,
      what: 'invariants',
    });
  } catch {
    expect(last).toEqual([]);
  }
}
