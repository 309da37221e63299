/**
 * Owns the call into the function: a synchronous (RequestResponse) invocation of the function as
 * serverless-offline runs it, so the function's timeout, memory and environment come from
 * serverless.yml. Where the project's bounded runtime (infra/offline-concurrency.cjs) is active,
 * the invocation goes straight to its instances, in process; otherwise through serverless-offline's
 * Lambda Invoke API with the AWS SDK. Classifies the outcome.
 */
'use strict';

const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');

/**
 * @typedef {{ ok: true, payload: unknown, ms: number }
 *   | { ok: false, reason: 'function-error' | 'unreachable', error: string, timedOut?: boolean, ms: number }} InvokeOutcome
 */

class Invoker {
  /**
   * @param {{ endpoint: string, region: string,
   *   direct?: () => ({ invoke(functionKey: string, definition: unknown, event: unknown): Promise<unknown> } | undefined),
   *   functionOf?: (functionName: string) => ({ functionKey: string, definition: unknown } | undefined) }} options
   */
  constructor({ endpoint, region, direct, functionOf }) {
    this.direct = direct ?? (() => undefined);
    this.functionOf = functionOf ?? (() => undefined);
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
    const runtime = this.direct();
    const target = runtime && this.functionOf(functionName);
    if (target) return this.invokeDirect(runtime, target, eventJson);
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

  /** The same outcomes as through the Invoke API, from the instance's own result or error. */
  async invokeDirect(runtime, { functionKey, definition }, eventJson) {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    try {
      const payload = await runtime.invoke(functionKey, definition, JSON.parse(eventJson));
      return { ok: true, payload: payload ?? null, ms: ms() };
    } catch (error) {
      const message = `${error?.name ?? 'Error'}: ${error?.message ?? error}`;
      return { ok: false, reason: 'function-error', error: message, timedOut: /\[504\] - Lambda timeout/.test(message), ms: ms() };
    }
  }

  destroy() {
    this.client.destroy();
  }
}

module.exports = { Invoker };
