/**
 * Serverless plugin (v3) that owns the shared runtime Lambda layer and reports bundle sizes.
 *
 * Why a layer of packages, and how ES modules find them: on AWS stages the handler bundles
 * (.mjs, ES modules) leave the third-party runtime packages out (custom.esbuild.exclude from
 * infra/aws/target-aws.yml) and import them by bare name. Plain Node ESM ignores NODE_PATH, but
 * Lambda's Node.js runtimes since nodejs18.x search the NODE_PATH folders, which include
 * /opt/nodejs/node_modules, when resolving ES module imports. So the layer holds
 * nodejs/node_modules/<package> copied from this repository's node_modules (the versions the
 * tests ran with), and every function gets it. Our own layers/*.ts code stays bundled into each
 * handler (tree-shaken, a few kB), so a handler and its shared code can never be out of step.
 *
 * Before `sls package`/`sls deploy` it rebuilds .cache/aws/runtime-layer from package.json
 * "dependencies" and their dependencies (npm's node_modules lookup, no network); '@aws-sdk/*'
 * stays out because the nodejs22.x runtime provides it. After packaging it prints every
 * artifact's size.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');

/** Provided by the Lambda runtime; never copied into the layer. */
const RUNTIME_PROVIDED = [/^@aws-sdk\//];

class RuntimeLayerPlugin {
  constructor(serverless, options, { log }) {
    this.serverless = serverless;
    this.options = options;
    this.log = log;
    skipLayerComparisonWhenOnlyPackaging(serverless);
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.buildLayer(),
      'before:deploy:function:packageFunction': () => this.buildLayer(),
      'after:package:finalize': () => this.printSizes(),
    };
  }

  get root() {
    return this.serverless.serviceDir;
  }

  layerDir() {
    const layer = this.serverless.service.layers?.runtime;
    if (!layer) throw new Error('runtime-layer: serverless.yml has no `layers.runtime`');
    return path.resolve(this.root, layer.path);
  }

  buildLayer() {
    const target = path.join(this.layerDir(), 'nodejs', 'node_modules');
    fs.rmSync(this.layerDir(), { recursive: true, force: true });
    const packages = runtimePackageDirs(this.root);
    for (const dir of packages) {
      const relative = path.relative(path.join(this.root, 'node_modules'), dir);
      fs.cpSync(dir, path.join(target, relative), { recursive: true, dereference: true, filter: (src) => !isDevOnlyFile(src) });
    }
    this.log.verbose(`runtime-layer: ${packages.length} packages in ${path.relative(this.root, target)}`);
  }

  printSizes() {
    const service = this.serverless.service;
    const rows = [];
    for (const name of service.getAllFunctions()) {
      const artifact = service.getFunction(name).package?.artifact ?? service.package?.artifact;
      if (artifact) rows.push([`function ${name}`, artifact]);
    }
    for (const [name, layer] of Object.entries(service.layers ?? {})) {
      if (layer.package?.artifact) rows.push([`layer ${name}`, layer.package.artifact]);
    }
    // With --package <dir> the artifacts end up there, under their own file names.
    const packageDir = path.resolve(this.root, this.options.package ?? service.package?.path ?? '.serverless');
    const sized = rows
      .map(([label, file]) => [label, [path.resolve(this.root, file), path.join(packageDir, path.basename(file))].find((candidate) => fs.existsSync(candidate))])
      .filter(([, file]) => file)
      .map(([label, file]) => [label, fs.statSync(file).size]);
    if (!sized.length) return;
    const width = Math.max(...sized.map(([label]) => label.length));
    const lines = sized.map(([label, size]) => `  ${label.padEnd(width)}  ${formatKiB(size)} zipped`);
    const total = sized.reduce((sum, [, size]) => sum + size, 0);
    this.log.notice(`Bundle sizes (stage ${this.serverless.service.provider.stage}):\n${lines.join('\n')}\n  ${'total'.padEnd(width)}  ${formatKiB(total)} zipped`);
  }
}

/**
 * Serverless v3 compiles every `layers:` entry and then asks CloudFormation (describeStacks) whether
 * the deployed stack already has the same layer, to skip re-uploading it. That call needs AWS
 * credentials, which would make `sls package` fail offline. `sls package` uploads nothing, so the
 * comparison is pointless there: skip it. `sls deploy` keeps it (it has credentials anyway).
 */
function skipLayerComparisonWhenOnlyPackaging(serverless) {
  const command = serverless.processedInput?.commands?.join(' ');
  if (command !== 'package') return;
  const compileLayers = serverless.pluginManager.plugins.find((plugin) => plugin.constructor.name === 'AwsCompileLayers');
  if (!compileLayers) throw new Error('runtime-layer: Serverless internals changed (no AwsCompileLayers plugin); review skipLayerComparisonWhenOnlyPackaging');
  compileLayers.compareWithLastLayer = async () => {};
}

function formatKiB(bytes) {
  return `${(bytes / 1024).toFixed(1).padStart(9)} KiB`;
}

/** Type declarations, source maps and docs: the runtime never loads them. */
function isDevOnlyFile(src) {
  return /\.(d\.ts|d\.mts|d\.cts|map|md|markdown)$/i.test(src);
}

/**
 * Directories (under <root>/node_modules) of the production dependency closure, found the way
 * Node's require would: <dir>/node_modules/<name>, then each parent's node_modules.
 */
function runtimePackageDirs(root) {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const found = new Set();
  const seen = new Set(); // real paths, so a symlinked package is copied once
  const queue = Object.keys(manifest.dependencies ?? {}).map((name) => ({ name, from: root, optional: false }));
  while (queue.length) {
    const { name, from, optional } = queue.shift();
    if (RUNTIME_PROVIDED.some((pattern) => pattern.test(name))) continue;
    const dir = resolvePackageDir(name, from, root);
    if (!dir) {
      if (optional) continue;
      throw new Error(`runtime-layer: ${name} (needed by ${path.relative(root, from) || 'package.json'}) is not installed; run npm ci`);
    }
    const real = fs.realpathSync(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    found.add(dir);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: dir, optional: false });
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true });
    for (const dep of Object.keys(pkg.peerDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true });
  }
  return [...found].sort();
}

function resolvePackageDir(name, from, root) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === path.dirname(dir)) return undefined;
  }
}

module.exports = RuntimeLayerPlugin;
module.exports.runtimePackageDirs = runtimePackageDirs;
