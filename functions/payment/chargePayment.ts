/**
 * chargePayment: invoked only through the Lambda Invoke API (RequestResponse) by the order saga.
 * The request carries the full card number, so it is validated but never logged.
 */
import { invokeHandler } from '#layers/invoke';
import { ChargeRequest } from '#layers/schemas/payment';
import * as steps from './steps.ts';

export const handler = invokeHandler(ChargeRequest, steps.chargePayment, (request) => ({
  correlationId: request.orderId,
  attempt: request.attempt,
}));
