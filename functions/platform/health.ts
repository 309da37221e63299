/** GET /health: Postgres and Kafka reachability. */
import { httpHandler, reply } from '#layers/http/route';
import { checkDependencies } from '#layers/health';
import { health } from './routes.ts';

export const handler = httpHandler(health, async () => {
  const report = await checkDependencies();
  return reply(report.status === 'ok' ? 200 : 503, report);
});
