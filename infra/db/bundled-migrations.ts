/**
 * The migrations compiled into the `migrate` Lambda function (esbuild's text loader), which has no
 * repository on disk to read. Add a line here with every new file in infra/db/migrations; a deploy
 * test fails when the two lists differ.
 */
import type { Migration } from './migrate.ts';
import m0001 from './migrations/0001_platform.sql';
import m0002 from './migrations/0002_product.sql';
import m0003 from './migrations/0003_inventory.sql';
import m0004 from './migrations/0004_orders.sql';
import m0005 from './migrations/0005_payment.sql';
import m0006 from './migrations/0006_console.sql';
import m0007 from './migrations/0007_price_list.sql';
import m0008 from './migrations/0008_payment_answered.sql';
import m0009 from './migrations/0009_reserve_order.sql';
import m0010 from './migrations/0010_settle_order.sql';

export const BUNDLED_MIGRATIONS: Migration[] = [
  { name: '0001_platform.sql', sql: m0001 },
  { name: '0002_product.sql', sql: m0002 },
  { name: '0003_inventory.sql', sql: m0003 },
  { name: '0004_orders.sql', sql: m0004 },
  { name: '0005_payment.sql', sql: m0005 },
  { name: '0006_console.sql', sql: m0006 },
  { name: '0007_price_list.sql', sql: m0007 },
  { name: '0008_payment_answered.sql', sql: m0008 },
  { name: '0009_reserve_order.sql', sql: m0009 },
  { name: '0010_settle_order.sql', sql: m0010 },
];
