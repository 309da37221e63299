#!/usr/bin/env node
// Entry point of `npm start` and `npm test`: installs the dependencies if they are missing or
// older than package-lock.json, then runs infra/cli/<command>.ts through tsx.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [command, ...args] = process.argv.slice(2);
if (!['start', 'test'].includes(command)) {
  console.error('usage: node infra/cli/bootstrap.mjs start|test [args]');
  process.exit(2);
}

const marker = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs)) {
  // `npm install` (not `npm ci`): npm 11 writes lock files without other platforms' optional
  // packages and then refuses them in `npm ci`; `install` still follows the locked versions.
  console.error('[shopstream] installing dependencies (npm install)…');
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('[shopstream] npm install failed: check your access to the npm registry, then run `npm install` yourself.');
    process.exit(result.status ?? 1);
  }
}

process.env.SLS_TELEMETRY_DISABLED ??= '1';
process.env.SLS_NOTIFICATIONS_MODE ??= 'off';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import(`./${command}.ts`);
process.exitCode = await main(args);
