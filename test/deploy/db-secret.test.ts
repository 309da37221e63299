/** Unit tests (no I/O) of the database URL built from a Secrets Manager secret on AWS stages. */
import { databaseUrlFromSecret, type ReadSecret } from '#layers/db-secret';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shopstream/prod/db-AbCdEf';
const secretOf =
  (value: unknown): ReadSecret =>
  async (arn) => {
    expect(arn).toBe(ARN);
    return typeof value === 'string' ? value : JSON.stringify(value);
  };

describe('databaseUrlFromSecret', () => {
  it('does nothing without DATABASE_SECRET_ARN (local: DATABASE_URL is used as is)', async () => {
    let reads = 0;
    const readSecret: ReadSecret = async () => `${++reads}`;
    await expect(
      databaseUrlFromSecret({ DATABASE_URL: 'postgres://x' }, readSecret),
    ).resolves.toBeUndefined();
    expect(reads).toBe(0);
  });

  it('builds a TLS URL from an RDS/Aurora secret, escaping the credentials', async () => {
    const url = await databaseUrlFromSecret(
      { DATABASE_SECRET_ARN: ARN },
      secretOf({
        username: 'shop',
        password: 'p@ss:/w?rd',
        host: 'db.cluster-x.eu-west-1.rds.amazonaws.com',
        port: 5432,
        dbname: 'shopstream',
        engine: 'postgres',
      }),
    );
    expect(url).toBe(
      'postgres://shop:p%40ss%3A%2Fw%3Frd@db.cluster-x.eu-west-1.rds.amazonaws.com:5432/shopstream?sslmode=require',
    );
  });

  it('takes host and database from the environment when an RDS-managed secret has only username and password', async () => {
    const url = await databaseUrlFromSecret(
      {
        DATABASE_SECRET_ARN: ARN,
        DATABASE_HOST: 'db.internal',
        DATABASE_NAME: 'shop',
        DATABASE_PORT: '6432',
      },
      secretOf({ username: 'u', password: 'p' }),
    );
    expect(url).toBe('postgres://u:p@db.internal:6432/shop?sslmode=require');
  });

  it('accepts a secret holding a ready URL', async () => {
    await expect(
      databaseUrlFromSecret({ DATABASE_SECRET_ARN: ARN }, secretOf({ url: 'postgres://a:b@h:5432/d' })),
    ).resolves.toBe('postgres://a:b@h:5432/d');
  });

  it('fails fast, naming what is missing', async () => {
    await expect(
      databaseUrlFromSecret({ DATABASE_SECRET_ARN: ARN }, secretOf({ username: 'u', password: 'p' })),
    ).rejects.toThrow('DATABASE_HOST');
    await expect(
      databaseUrlFromSecret(
        { DATABASE_SECRET_ARN: ARN, DATABASE_HOST: '' },
        secretOf({ username: 'u', password: 'p', host: 'h' }),
      ),
    ).rejects.toThrow('DATABASE_NAME');
    await expect(databaseUrlFromSecret({ DATABASE_SECRET_ARN: ARN }, secretOf('not json'))).rejects.toThrow(
      'not JSON',
    );
    await expect(
      databaseUrlFromSecret({ DATABASE_SECRET_ARN: ARN }, secretOf({ user: 'u' })),
    ).rejects.toThrow('"username" and "password"');
  });
});

describe('behind an RDS Proxy', () => {
  it('connects to DATABASE_HOST (the proxy) even when the secret names the database host', async () => {
    const url = await databaseUrlFromSecret(
      { DATABASE_SECRET_ARN: ARN, DATABASE_HOST: 'shopstream.proxy-x.eu-west-1.rds.amazonaws.com' },
      secretOf({ username: 'shop', password: 'pw', host: 'db.cluster-x.eu-west-1.rds.amazonaws.com', port: 5432, dbname: 'shopstream' }),
    );
    expect(new URL(url!).hostname).toBe('shopstream.proxy-x.eu-west-1.rds.amazonaws.com');
  });
});
