/** HTTP routes of the payment service: the inquiry API and an order's payment attempts. */
import { defineRoute } from '#layers/http/route';
import { OrderIdParams, PaymentIdParams, PaymentList, PaymentSchema } from './contract.ts';

export const getPayment = defineRoute({
  operationId: 'getPayment',
  method: 'get',
  path: '/payments/{id}',
  summary: 'The inquiry API: how one charge attempt ended (its id is a UUIDv5 of orderId:attempt)',
  tags: ['Payments'],
  params: PaymentIdParams,
  response: { status: 200, description: 'The payment', schema: PaymentSchema },
  problems: [404],
});

export const listOrderPayments = defineRoute({
  operationId: 'listOrderPayments',
  method: 'get',
  path: '/orders/{id}/payments',
  summary: 'Every charge attempt of an order, oldest first (empty for an order never charged)',
  tags: ['Payments'],
  params: OrderIdParams,
  response: { status: 200, description: 'The attempts', schema: PaymentList },
});

export const paymentRoutes = [getPayment, listOrderPayments];
