/**
 * The order service's client of the payment service: Lambda Invoke (RequestResponse) of
 * chargePayment, inquirePayment and voidPayments, with a client-side deadline. The SDK's own retries are off: a
 * charge call that got no answer must be followed by an inquiry, never blindly repeated.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { z } from 'zod';
import { once, readEnv } from '#layers/env';
import { traceClient } from '#layers/observability';
import { ChargeResult, InquiryResult, VoidResult, type ChargeRequest } from '#layers/schemas/payment';

const PaymentClientEnv = z.object({
  PAYMENT_CHARGE_FUNCTION: z
    .string()
    .min(1, 'PAYMENT_CHARGE_FUNCTION names the chargePayment Lambda function'),
  PAYMENT_INQUIRY_FUNCTION: z
    .string()
    .min(1, 'PAYMENT_INQUIRY_FUNCTION names the inquirePayment Lambda function'),
  PAYMENT_VOID_FUNCTION: z.string().min(1, 'PAYMENT_VOID_FUNCTION names the voidPayments Lambda function'),
  /** serverless-offline's Lambda endpoint locally; unset on AWS. */
  LAMBDA_ENDPOINT: z.preprocess((value) => (value === '' ? undefined : value), z.url().optional()),
  PAYMENT_INVOKE_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  AWS_REGION: z.string().default('us-east-1'),
});
const env = once(() => readEnv(PaymentClientEnv));

const client = once(() => {
  const { LAMBDA_ENDPOINT, AWS_REGION } = env();
  return traceClient(
    new LambdaClient({
      region: AWS_REGION,
      maxAttempts: 1,
      ...(LAMBDA_ENDPOINT
        ? { endpoint: LAMBDA_ENDPOINT, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {}),
    }),
  );
});

/** The charge call got no answer in time: the charge may still be running or settle later. */
export class PaymentTimeoutError extends Error {
  override name = 'PaymentTimeoutError';
  readonly retryable = true;
}

/** The payment function could not be reached or failed: its effect is unknown. */
export class PaymentServiceError extends Error {
  override name = 'PaymentServiceError';
  readonly retryable = true;
}

export async function chargeCard(request: ChargeRequest): Promise<ChargeResult> {
  return invoke(env().PAYMENT_CHARGE_FUNCTION, request, ChargeResult);
}

export async function inquirePayment(paymentId: string): Promise<InquiryResult> {
  return invoke(env().PAYMENT_INQUIRY_FUNCTION, { paymentId }, InquiryResult);
}

export async function voidOrderPayments(orderId: string): Promise<VoidResult> {
  return invoke(env().PAYMENT_VOID_FUNCTION, { orderId }, VoidResult);
}

/**
 * An answer that does not parse is the payment service's failure, not the caller's record's:
 * a retryable PaymentServiceError (a schema error here would dead-letter the saga's step).
 */
async function invoke<T>(functionName: string, payload: unknown, answer: z.ZodType<T>): Promise<T> {
  const timeoutMs = env().PAYMENT_INVOKE_TIMEOUT_MS;
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
      throw new PaymentTimeoutError(`${functionName} did not answer within ${timeoutMs} ms`, {
        cause: error,
      });
    throw new PaymentServiceError(`${functionName} could not be invoked: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
  if (response.FunctionError)
    throw new PaymentServiceError(
      `${functionName} failed (${response.FunctionError}): ${text.slice(0, 500)}`,
    );
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch (error) {
    throw new PaymentServiceError(
      `${functionName} answered something that is not JSON: ${text.slice(0, 200)}`,
      {
        cause: error,
      },
    );
  }
  const result = answer.safeParse(parsed);
  if (!result.success)
    throw new PaymentServiceError(`${functionName} answered an unexpected shape: ${result.error.message}`, {
      cause: result.error,
    });
  return result.data;
}
