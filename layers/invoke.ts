/**
 * Both sides of a synchronous Lambda Invoke API (RequestResponse), the way the order service calls
 * the payment service: `invokeHandler` serves one (the event is the request, parsed with its zod
 * schema; the return value is the answer), `invokeFunction` calls one with a client-side deadline.
 *
 * The SDK's own retries are off: a call that got no answer may still have had its effect (a
 * charge), so what to do next is the caller's decision, never a blind repeat. Every failure of the
 * call is retryable for the Kafka consumer that made it (errors.ts reads the `retryable` flag): an
 * answer that does not parse is the called service's failure, not the caller's record's.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import { z } from 'zod';
import { once, readEnv } from './env.ts';
import { logger, traceClient, traceHandler } from './observability.ts';

export function invokeHandler<S extends z.ZodType, R>(
  request: S,
  work: (request: z.output<S>) => Promise<R>,
  /** Log keys of one request (say, its correlation id), appended for the invocation. */
  logKeys?: (request: z.output<S>) => Record<string, unknown>,
) {
  return middy<unknown, R>()
    .use(traceHandler())
    .handler(async (event) => {
      const parsed = request.parse(event);
      if (logKeys) logger.appendKeys(logKeys(parsed));
      try {
        return await work(parsed);
      } finally {
        if (logKeys) logger.resetKeys();
      }
    });
}

const InvokeEnv = z.object({
  /** serverless-offline's Lambda endpoint locally; unset on AWS. */
  LAMBDA_ENDPOINT: z.preprocess((value) => (value === '' ? undefined : value), z.url().optional()),
  AWS_REGION: z.string().default('us-east-1'),
});

const client = once(() => {
  const { LAMBDA_ENDPOINT, AWS_REGION } = readEnv(InvokeEnv);
  return traceClient(
    new LambdaClient({
      region: AWS_REGION,
      maxAttempts: 1,
      ...(LAMBDA_ENDPOINT
        ? {
            endpoint: LAMBDA_ENDPOINT,
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
            // serverless-offline does not check signatures: SigV4 (a hash of every payload) was
            // ~5 % of processPayment's CPU in a profile. Other stages set no endpoint and sign.
            signer: { sign: async (request) => request },
          }
        : {}),
    }),
  );
});

/** The call got no answer in time: its effect is unknown (a charge may still be running). */
export class InvokeTimeoutError extends Error {
  override name = 'InvokeTimeoutError';
  readonly retryable = true;
}

/** The function could not be reached, failed, or answered something unexpected: its effect is unknown. */
export class InvokeError extends Error {
  override name = 'InvokeError';
  readonly retryable = true;
}

export async function invokeFunction<T>(
  functionName: string,
  payload: unknown,
  answer: z.ZodType<T>,
  timeoutMs: number,
): Promise<T> {
  let response;
  try {
    response = await client().send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
      { abortSignal: AbortSignal.timeout(timeoutMs) },
    );
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'AbortError' || name === 'TimeoutError')
      throw new InvokeTimeoutError(`${functionName} did not answer within ${timeoutMs} ms`, { cause: error });
    throw new InvokeError(`${functionName} could not be invoked: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
  if (response.FunctionError)
    throw new InvokeError(`${functionName} failed (${response.FunctionError}): ${text.slice(0, 500)}`);
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch (error) {
    throw new InvokeError(`${functionName} answered something that is not JSON: ${text.slice(0, 200)}`, {
      cause: error,
    });
  }
  const result = answer.safeParse(parsed);
  if (!result.success)
    throw new InvokeError(`${functionName} answered an unexpected shape: ${result.error.message}`, {
      cause: result.error,
    });
  return result.data;
}
