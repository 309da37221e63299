#!/usr/bin/env node
// Entry point of `npm start`, `npm test` and the scripts that start the stack (bench, chaos, DLQ
// replay). It installs the dependencies if node_modules is missing or does not match
// package-lock.json, then makes sure everything runs on the Node.js major of the deployed Lambda
// runtime (serverless.yml `provider.runtime`): the Node that started it if that is the right
// major, else the Node binary that npm installed from the `node-<platform>-<arch>` optional
// dependencies, on which this script runs itself again. serverless-offline, and so every
// function, then runs on the same Node.
//
//   node infra/cli/bootstrap.mjs start|test [args]     infra/cli/<command>.ts main(args)
//   node infra/cli/bootstrap.mjs run <file.ts> [args]  a TypeScript script, as `tsx <file.ts>` would
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [command, ...args] = process.argv.slice(2);
if (!['start', 'test', 'run'].includes(command) || (command === 'run' && !args[0])) {
  console.error('usage: node infra/cli/bootstrap.mjs start|test [args] | run <file.ts> [args]');
  process.exit(2);
}

const say = (message) => console.error(`[shopstream] ${message}`);

installDependencies();
const major = runtimeMajor();
if (Number(process.versions.node.split('.')[0]) !== major) {
  process.exit(await runAgainOn(bundledNode(major)));
}
stopWithTheNodeThatStartedUs();

process.env.SLS_TELEMETRY_DISABLED ??= '1';
process.env.SLS_NOTIFICATIONS_MODE ??= 'off';
const { register } = await import('tsx/esm/api');
register();
if (command === 'run') {
  const script = path.resolve(args[0]);
  process.argv = [process.argv[0], script, ...args.slice(1)];
  await import(pathToFileURL(script).href);
} else {
  const { main } = await import(`./${command}.ts`);
  process.exitCode = await main(args);
}

/**
 * `npm ci` on a fresh clone (exactly the locked tree; the lock lists every platform's optional
 * packages), `npm install` when node_modules no longer matches package.json and the lock (after a
 * pull), which follows the lock and only fetches what changed.
 */
function installDependencies() {
  const npmCommand = installState();
  if (!npmCommand) return;
  say(`installing dependencies (npm ${npmCommand})…`);
  // npm warns about the `>=22` engines (middy) when npm itself runs on an older Node; that code
  // never runs there (see runAgainOn), so only errors are shown then.
  const quiet = Number(process.versions.node.split('.')[0]) < 22 ? ['--loglevel=error'] : [];
  const result = spawnSync('npm', [npmCommand, '--no-audit', '--no-fund', ...quiet], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) {
    say(
      `npm ${npmCommand} failed: check your access to the npm registry, then run \`npm ${npmCommand}\` yourself.`,
    );
    process.exit(result.status ?? 1);
  }
}

/**
 * 'ci' without node_modules, 'install' when npm's record of what it installed
 * (node_modules/.package-lock.json) differs from package-lock.json, or the lock from package.json;
 * undefined when everything is in place. Optional packages may be missing (other platforms').
 */
function installState() {
  const read = (file) => JSON.parse(readFileSync(path.join(root, file), 'utf8'));
  if (!existsSync(path.join(root, 'node_modules', '.package-lock.json'))) return 'ci';
  const installed = read('node_modules/.package-lock.json').packages;
  const { packages: locked } = read('package-lock.json');
  const manifest = read('package.json');
  const fields = ['dependencies', 'devDependencies', 'optionalDependencies'];
  if (fields.some((field) => !sameEntries(manifest[field], locked[''][field]))) return 'install';
  for (const [where, entry] of Object.entries(locked)) {
    if (where === '' || entry.link) continue;
    const have = installed[where];
    if (have ? have.version !== entry.version : !(entry.optional || entry.devOptional)) return 'install';
  }
  return Object.keys(installed).every((where) => where in locked) ? undefined : 'install';
}

function sameEntries(a = {}, b = {}) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** The Node.js major of serverless.yml's `provider.runtime` (nodejs22.x → 22). */
function runtimeMajor() {
  const manifest = readFileSync(path.join(root, 'serverless.yml'), 'utf8');
  const provider = manifest.match(/^provider:\n((?:[ #].*\n|\n)*)/m)?.[1] ?? '';
  const runtime = provider.match(/^ {2}runtime:\s*nodejs(\d+)\.x\s*$/m);
  if (!runtime) throw new Error('serverless.yml: provider.runtime is not a nodejs<major>.x runtime');
  return Number(runtime[1]);
}

/** bin/node of the installed `node-<platform>-<arch>` package, checked to be Node `major`. */
function bundledNode(major) {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  const candidates = Object.keys(manifest.optionalDependencies ?? {}).filter((name) =>
    name.endsWith(`-${platform}-${process.arch}`),
  );
  for (const name of candidates) {
    const dir = path.join(root, 'node_modules', name);
    if (!existsSync(path.join(dir, 'package.json'))) continue;
    const binary = path.join(dir, JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).bin.node);
    const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    if (version?.startsWith(`v${major}.`)) return binary;
    if (version) {
      say(
        `${name} is Node ${version}, but serverless.yml deploys nodejs${major}.x: move the node-* optionalDependencies in package.json to the same major.`,
      );
      process.exit(1);
    }
  }
  say(
    `the functions deploy on nodejs${major}.x, this is Node ${process.version}, and npm installed no Node ${major} for ${process.platform}-${process.arch}` +
      ` (package.json optionalDependencies node-*). Run this with Node ${major} (for example \`nvm install ${major}\`), or run \`npm ci\` if you installed with --omit=optional.`,
  );
  process.exit(1);
}

/**
 * Runs this script again on `node` and waits for it. The child has its own process group, so a
 * Ctrl-C reaches it once, forwarded from here, and an IPC channel, so it also stops when we are
 * killed outright. Resolves to the child's exit code.
 */
function runAgainOn(node) {
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  const forwarded = new Map();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      // npm forwards the terminal's Ctrl-C to us as well: one press, one signal to the child.
      if (Date.now() - (forwarded.get(signal) ?? 0) < 1000) return;
      forwarded.set(signal, Date.now());
      child.kill(signal);
    });
  }
  return new Promise((resolve) => {
    child.once('error', (error) => {
      say(`could not start ${node}: ${error.message}`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}

/** When we were started by runAgainOn: stop as on SIGTERM if that process goes away. */
function stopWithTheNodeThatStartedUs() {
  if (!process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
