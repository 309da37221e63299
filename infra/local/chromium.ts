/**
 * The browser for the Swagger UI test: Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH).
 * On a fresh machine where we are root, `npm test` installs it with apt-get; elsewhere it says how.
 */
import { existsSync } from 'node:fs';
import { log, run } from './process.ts';

export async function ensureChromium(): Promise<string> {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (existsSync(path)) return path;
  const hint = 'Install it (Debian/Ubuntu: `sudo apt-get install chromium`) or set CHROMIUM_PATH to a Chromium binary.';
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) throw new Error(`Chromium not found at ${path} (the Swagger UI test drives it). ${hint}`);
  log('Chromium: not found; installing Debian\'s chromium for the browser test (first run only, 1–2 minutes)');
  for (const args of [['update', '-q'], ['install', '-y', '-q', '--no-install-recommends', 'chromium']]) {
    const result = await run('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, onLine: (line) => line.startsWith('Setting up') && log(`Chromium: ${line}`) });
    if (result.code !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${result.output.slice(-2000)}\n${hint}`);
  }
  if (!existsSync(path)) throw new Error(`chromium installed but ${path} is missing. ${hint}`);
  return path;
}
