/**
 * The order service's calls to other services' Invoke APIs (RequestResponse, with a client-side
 * deadline): the payment service's chargePayment, inquirePayment and voidPayments, and the product
 * service's getProductPrices. A charge call that got no answer is followed by an inquiry, never
 * blindly repeated (steps.ts).
 */
import { z } from 'zod';
import { once, readEnv } from '#layers/env';
import { invokeFunction } from '#layers/invoke';
import { ChargeResult, InquiryResult, VoidResult, type ChargeRequest } from '#layers/schemas/payment';
import { ProductPrices } from '#layers/schemas/product';

const PaymentClientEnv = z.object({
  PAYMENT_CHARGE_FUNCTION: z
    .string()
    .min(1, 'PAYMENT_CHARGE_FUNCTION names the chargePayment Lambda function'),
  PAYMENT_INQUIRY_FUNCTION: z
    .string()
    .min(1, 'PAYMENT_INQUIRY_FUNCTION names the inquirePayment Lambda function'),
  PAYMENT_VOID_FUNCTION: z.string().min(1, 'PAYMENT_VOID_FUNCTION names the voidPayments Lambda function'),
  PAYMENT_INVOKE_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
});
const env = once(() => readEnv(PaymentClientEnv));

export async function chargePayment(request: ChargeRequest): Promise<ChargeResult> {
  return invokeFunction(
    env().PAYMENT_CHARGE_FUNCTION,
    request,
    ChargeResult,
    env().PAYMENT_INVOKE_TIMEOUT_MS,
  );
}

export async function inquirePayment(paymentId: string): Promise<InquiryResult> {
  return invokeFunction(
    env().PAYMENT_INQUIRY_FUNCTION,
    { paymentId },
    InquiryResult,
    env().PAYMENT_INVOKE_TIMEOUT_MS,
  );
}

export async function voidPayments(orderId: string): Promise<VoidResult> {
  return invokeFunction(
    env().PAYMENT_VOID_FUNCTION,
    { orderId },
    VoidResult,
    env().PAYMENT_INVOKE_TIMEOUT_MS,
  );
}

const ProductClientEnv = z.object({
  PRODUCT_PRICES_FUNCTION: z
    .string()
    .min(1, 'PRODUCT_PRICES_FUNCTION names the getProductPrices Lambda function'),
  PRODUCT_INVOKE_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
});
const productEnv = once(() => readEnv(ProductClientEnv));

/** The catalog's prices of products the price list has not heard of (unknown ones left out). */
export async function getProductPrices(productIds: readonly string[]): Promise<ProductPrices> {
  return invokeFunction(
    productEnv().PRODUCT_PRICES_FUNCTION,
    { productIds },
    ProductPrices,
    productEnv().PRODUCT_INVOKE_TIMEOUT_MS,
  );
}
