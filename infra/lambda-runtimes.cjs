/**
 * Serverless plugin (v3): accepts the Lambda Node.js runtimes released after Serverless v3's last
 * version. v3's configuration schema stops at nodejs20.x, so `runtime: nodejs22.x` printed
 * "Invalid configuration encountered at 'provider.runtime'" on every command; the framework itself
 * passes the value through to CloudFormation unchanged (test/deploy checks the template).
 */
'use strict';

const NEWER_NODE_RUNTIMES = ['nodejs22.x', 'nodejs24.x'];

class LambdaRuntimesPlugin {
  constructor(serverless) {
    const runtimes = serverless.configSchemaHandler.schema.definitions.awsLambdaRuntime?.enum;
    if (!Array.isArray(runtimes))
      throw new Error(
        'lambda-runtimes: Serverless internals changed (no awsLambdaRuntime enum); review this plugin',
      );
    for (const runtime of NEWER_NODE_RUNTIMES) if (!runtimes.includes(runtime)) runtimes.push(runtime);
  }
}

module.exports = LambdaRuntimesPlugin;
