import { z } from 'zod';
import { ConfigurationError, commaList, readEnv } from '#layers/env';

describe('readEnv', () => {
  const schema = z.object({ DATABASE_URL: z.string().min(1), KAFKA_BROKERS: commaList, POLL_MS: z.coerce.number().default(100) });

  it('parses, coerces and applies defaults', () => {
    expect(readEnv(schema, { DATABASE_URL: 'postgres://x', KAFKA_BROKERS: 'a:1, b:2' })).toEqual({ DATABASE_URL: 'postgres://x', KAFKA_BROKERS: ['a:1', 'b:2'], POLL_MS: 100 });
  });

  it('fails fast naming every missing variable', () => {
    expect(() => readEnv(schema, {})).toThrow(ConfigurationError);
    expect(() => readEnv(schema, {})).toThrow(/DATABASE_URL.*KAFKA_BROKERS/);
  });
});
