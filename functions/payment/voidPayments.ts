/** voidPayments: voids a cancelled order's pending or approved charges; Lambda Invoke only. */
import { invokeHandler } from '#layers/invoke';
import { VoidRequest } from '#layers/schemas/payment';
import * as steps from './steps.ts';

export const handler = invokeHandler(VoidRequest, (request) => steps.voidPayments(request.orderId));
