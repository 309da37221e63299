/** `npm start`: the whole system up, API on :3000, until Ctrl-C. */
import { log } from '../local/process.ts';
import { startStack } from './stack.ts';

export async function main(): Promise<number> {
  const stack = await startStack({
    mode: 'start',
    httpPort: Number(process.env.HTTP_PORT ?? 3000),
    lambdaPort: Number(process.env.LAMBDA_PORT ?? 3002),
    offlineOutput: 'inherit',
  });
  log(`API: ${stack.env.API_URL}  ·  Swagger UI: ${stack.env.API_URL}/swagger  ·  admin key: ${stack.env.ADMIN_API_KEY}  ·  Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log('stopping…');
  await stack.stop();
  log('stopped');
  return 0;
}
