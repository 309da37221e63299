/**
 * Database credentials from AWS Secrets Manager. On AWS stages the functions get
 * DATABASE_SECRET_ARN instead of DATABASE_URL, so no password appears in the template or the
 * function configuration; layers/db.ts turns the secret into a connection URL once per cold start.
 *
 * The secret is JSON. Accepted shapes: `{ "url": "postgres://…" }`, or the RDS/Aurora shape
 * `{ username, password, host?, port?, dbname? }`. An RDS-managed master secret holds only
 * username and password, so host, name and port may come from DATABASE_HOST, DATABASE_NAME and
 * DATABASE_PORT instead. DATABASE_HOST, when set, wins over the secret's host: on AWS stages it is
 * the RDS Proxy endpoint, and a secret naming the database itself must not route around the proxy.
 */
import { z } from 'zod';
import { ConfigurationError } from './env.ts';

const SecretEnv = z.object({
  DATABASE_SECRET_ARN: z.string().min(1),
  DATABASE_HOST: z.string().optional(),
  DATABASE_NAME: z.string().optional(),
  DATABASE_PORT: z.coerce.number().int().positive().optional(),
  /** TLS to RDS is on unless a stage says otherwise (postgres.js `sslmode`). */
  DATABASE_SSLMODE: z.enum(['disable', 'prefer', 'require', 'verify-full']).default('require'),
});

const DatabaseSecret = z.union([
  z.object({ url: z.string().min(1) }),
  z.object({
    username: z.string().min(1),
    password: z.string().min(1),
    host: z.string().min(1).optional(),
    port: z.coerce.number().int().positive().optional(),
    dbname: z.string().min(1).optional(),
  }),
]);

/** Reads a secret's SecretString by ARN (Secrets Manager in production, a fake in tests). */
export type ReadSecret = (secretArn: string) => Promise<string>;

/** The connection URL the environment describes, or undefined when DATABASE_SECRET_ARN is unset. */
export async function databaseUrlFromSecret(env: NodeJS.ProcessEnv, readSecret: ReadSecret): Promise<string | undefined> {
  if (!env.DATABASE_SECRET_ARN) return undefined;
  const config = SecretEnv.parse(env);
  const raw = await readSecret(config.DATABASE_SECRET_ARN);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    throw new ConfigurationError(`The secret DATABASE_SECRET_ARN (${config.DATABASE_SECRET_ARN}) is not JSON`, { cause });
  }
  const parsed = DatabaseSecret.safeParse(json);
  if (!parsed.success) {
    throw new ConfigurationError(`The secret DATABASE_SECRET_ARN (${config.DATABASE_SECRET_ARN}) needs "url" or "username" and "password"`);
  }
  const secret = parsed.data;
  if ('url' in secret) return secret.url;
  const host = config.DATABASE_HOST || secret.host;
  const dbname = secret.dbname ?? config.DATABASE_NAME;
  if (!host) throw new ConfigurationError('DATABASE_HOST is required when the database secret has no "host"');
  if (!dbname) throw new ConfigurationError('DATABASE_NAME is required when the database secret has no "dbname"');
  const port = secret.port ?? config.DATABASE_PORT ?? 5432;
  const user = encodeURIComponent(secret.username);
  const password = encodeURIComponent(secret.password);
  return `postgres://${user}:${password}@${host}:${port}/${encodeURIComponent(dbname)}?sslmode=${config.DATABASE_SSLMODE}`;
}

/**
 * Reads a secret with the AWS SDK v3 client that the Lambda nodejs22.x runtime ships (esbuild
 * leaves '@aws-sdk/*' out of the bundles). The module name is a variable so neither tsc nor
 * esbuild needs the package locally, where DATABASE_URL is used instead.
 */
export const readSecretFromSecretsManager: ReadSecret = async (secretArn) => {
  const moduleName = '@aws-sdk/client-secrets-manager';
  const sdk = (await import(moduleName)) as {
    SecretsManagerClient: new () => { send(command: unknown): Promise<{ SecretString?: string }> };
    GetSecretValueCommand: new (input: { SecretId: string }) => unknown;
  };
  const result = await new sdk.SecretsManagerClient().send(new sdk.GetSecretValueCommand({ SecretId: secretArn }));
  if (!result.SecretString) throw new ConfigurationError(`The secret ${secretArn} has no SecretString`);
  return result.SecretString;
};
