/**
 * How kafkajs authenticates, chosen by KAFKA_SASL_MECHANISM. Unset: plaintext (local broker,
 * compose). `aws-msk-iam`: TLS plus SASL/OAUTHBEARER with an IAM token signed from the function's
 * role — the way MSK documents IAM access for clients without the Java AWS_MSK_IAM plugin.
 *
 * The token comes from AWS's signer package `aws-msk-iam-sasl-signer-js` (generateAuthToken), a
 * runtime dependency carried by the runtime layer; it is loaded only when this mechanism is on.
 */
import type { SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { ConfigurationError, readEnv } from '../env.ts';

const KafkaAuthEnv = z.object({
  KAFKA_SASL_MECHANISM: z.enum(['', 'aws-msk-iam']).default(''),
  AWS_REGION: z.string().optional(),
});

export const MSK_IAM_SIGNER_MODULE = 'aws-msk-iam-sasl-signer-js';

type Signer = { generateAuthToken(options: { region: string }): Promise<{ token: string; expiryTime: number }> };

/** kafkajs `ssl`/`sasl` options for the configured mechanism (empty for plaintext). */
export function kafkaAuthOptions(source: NodeJS.ProcessEnv = process.env): { ssl?: boolean; sasl?: SASLOptions } {
  const env = readEnv(KafkaAuthEnv, source);
  if (env.KAFKA_SASL_MECHANISM !== 'aws-msk-iam') return {};
  const region = env.AWS_REGION;
  if (!region) throw new ConfigurationError('AWS_REGION is required for KAFKA_SASL_MECHANISM=aws-msk-iam');
  return {
    ssl: true,
    sasl: {
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => {
        const signer = await loadSigner();
        const { token } = await signer.generateAuthToken({ region });
        return { value: token };
      },
    },
  };
}

async function loadSigner(): Promise<Signer> {
  const moduleName = MSK_IAM_SIGNER_MODULE; // a variable: bundles leave it to the runtime layer
  try {
    return (await import(moduleName)) as Signer;
  } catch (cause) {
    throw new ConfigurationError(`KAFKA_SASL_MECHANISM=aws-msk-iam needs the package ${MSK_IAM_SIGNER_MODULE} (add it to package.json dependencies)`, { cause });
  }
}
