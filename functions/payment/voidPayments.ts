/** voidPayments: voids a cancelled order's pending or approved charges; Lambda Invoke only. */
import middy from '@middy/core';
import { traceHandler } from '#layers/observability';
import { VoidRequest, type VoidResult } from '#layers/schemas/payment';
import { voidPayments } from './payments.ts';

export const handler = middy<unknown, VoidResult>()
  .use(traceHandler())
  .handler(async (event) => voidPayments(VoidRequest.parse(event).orderId));
