/**
 * Owns the call into the function: a synchronous (RequestResponse) Lambda Invoke through
 * serverless-offline's Lambda API with the AWS SDK, as AWS's poller does, so the function's
 * timeout, memory and environment come from serverless.yml. Classifies the outcome.
 */
'use strict';

const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');

/**
 * @typedef {{ ok: true, payload: unknown, ms: number }
 *   | { ok: false, reason: 'function-error' | 'unreachable', error: string, timedOut?: boolean, ms: number }} InvokeOutcome
 */

class Invoker {
  /** @param {{ endpoint: string, region: string }} options */
  constructor({ endpoint, region }) {
    this.client = new LambdaClient({
      endpoint,
      region,
      // serverless-offline does not check signatures: skip SigV4, which would hash every payload
      // (up to 6 MB) on the thread that also serves the functions.
      credentials: { accessKeyId: 'offline', secretAccessKey: 'offline' },
      signer: { sign: async (request) => request },
      // Retrying is the mapping's business (it decides about attempts, bisecting and destinations).
      maxAttempts: 1,
    });
  }

  /**
   * @param {string} functionName
   * @param {string} eventJson
   * @returns {Promise<InvokeOutcome>}
   */
  async invoke(functionName, eventJson) {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    let response;
    try {
      response = await this.client.send(new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(eventJson),
      }));
    } catch (error) {
      // Connection refused / reset: serverless-offline not (yet) listening. Not the function's
      // fault, so it does not count as an attempt.
      const code = error?.code ?? error?.cause?.code ?? error?.name;
      const unreachable = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'TimeoutError'].includes(code);
      return { ok: false, reason: unreachable ? 'unreachable' : 'function-error', error: `${error?.name ?? 'Error'}: ${error?.message ?? error}`, ms: ms() };
    }
    const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
    let payload = null;
    try {
      payload = text ? JSON.parse(text) : null;
    } catch {
      payload = text;
    }
    if (response.FunctionError) {
      const message = payload && typeof payload === 'object' ? `${payload.errorType ?? 'Error'}: ${payload.errorMessage ?? JSON.stringify(payload)}` : String(payload);
      // serverless-offline's own wording for a function that ran past its timeout.
      const timedOut = /\[504\] - Lambda timeout/.test(message);
      return { ok: false, reason: 'function-error', error: message, timedOut, ms: ms() };
    }
    return { ok: true, payload, ms: ms() };
  }

  destroy() {
    this.client.destroy();
  }
}

module.exports = { Invoker };
