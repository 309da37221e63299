/** inquirePayment: the inquiry API for the order saga, through the Lambda Invoke API. */
import { invokeHandler } from '#layers/invoke';
import { InquiryRequest } from '#layers/schemas/payment';
import * as steps from './steps.ts';

export const handler = invokeHandler(InquiryRequest, (request) => steps.inquirePayment(request.paymentId));
