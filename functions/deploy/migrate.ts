/**
 * `migrate` (AWS stages): applies the bundled SQL migrations to the stage's database. Run it once
 * after every deploy: `npx sls invoke -f migrate --stage <stage>`. Safe to run again or
 * concurrently (infra/db/migrate.ts takes an advisory lock and skips applied files).
 */
import { db } from '#layers/db';
import { logger } from '#layers/observability';
import { BUNDLED_MIGRATIONS } from '../../infra/db/bundled-migrations.ts';
import { migrate } from '../../infra/db/migrate.ts';

export async function handler(): Promise<{ applied: string[]; known: number }> {
  const applied = await migrate(db(), BUNDLED_MIGRATIONS);
  logger.info('migrations applied', { applied, known: BUNDLED_MIGRATIONS.length });
  return { applied, known: BUNDLED_MIGRATIONS.length };
}
