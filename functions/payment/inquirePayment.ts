/** inquirePayment: the inquiry API for the order saga, through the Lambda Invoke API. */
import middy from '@middy/core';
import { traceHandler } from '#layers/observability';
import { InquiryRequest, type InquiryResult } from '#layers/schemas/payment';
import { inquire } from './payments.ts';

export const handler = middy<unknown, InquiryResult>()
  .use(traceHandler())
  .handler(async (event) => inquire(InquiryRequest.parse(event).paymentId));
