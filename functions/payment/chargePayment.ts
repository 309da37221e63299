/**
 * chargePayment: invoked only through the Lambda Invoke API (RequestResponse) by the order saga.
 * The request carries the full card number, so it is validated but never logged.
 */
import middy from '@middy/core';
import { logger, traceHandler } from '#layers/observability';
import { ChargeRequest, type ChargeResult } from '#layers/schemas/payment';
import { charge } from './payments.ts';

export const handler = middy<unknown, ChargeResult>()
  .use(traceHandler())
  .handler(async (event) => {
    const request = ChargeRequest.parse(event);
    logger.appendKeys({ correlationId: request.orderId, attempt: request.attempt });
    try {
      return await charge(request);
    } finally {
      logger.resetKeys();
    }
  });
