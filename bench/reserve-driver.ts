/** A child process of bench/reserve.ts: runs the app's reservation transaction and prints JSON. */
export {};
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
const { drive } = await import('./reserve.ts');
const result = await drive(JSON.parse(process.env.BENCH_DRIVER ?? '{}') as Parameters<typeof drive>[0]);
process.stdout.write(JSON.stringify(result));
