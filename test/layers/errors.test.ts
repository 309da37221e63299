/** Which failures may pass on retry (layers/errors.ts `isRetryable`): the Kafka consumers' triage. */
import postgres from 'postgres';
import { z } from 'zod';
import { ConflictError, DependencyError, isRetryable, ValidationError } from '#layers/errors';

const withCode = (code: string, name = 'Error') => Object.assign(new Error(code), { code, name });
const pgError = (code: string) =>
  Object.assign(Object.create(postgres.PostgresError.prototype) as Error, {
    name: 'PostgresError',
    code,
    message: code,
  });

it.each([
  ['connection refused', withCode('ECONNREFUSED')],
  ['connection reset', withCode('ECONNRESET')],
  ['postgres.js connection closed', withCode('CONNECTION_CLOSED')],
  ['postgres.js connect timeout', withCode('CONNECT_TIMEOUT')],
  ['too many clients (53300)', pgError('53300')],
  ['lock not available (55P03)', pgError('55P03')],
  ['a transaction the server ended for sitting idle (25P03)', pgError('25P03')],
  ['statement timeout (57014)', pgError('57014')],
  ['server shutting down (57P01)', pgError('57P01')],
  ['server starting up (57P03)', pgError('57P03')],
  ['deadlock (40P01)', pgError('40P01')],
  ['a dependency down', new DependencyError('payment unavailable')],
  [
    'a retriable kafkajs error',
    Object.assign(new Error('leader not available'), { name: 'KafkaJSProtocolError', retriable: true }),
  ],
  ['a wrapper whose cause is a lost connection', new Error('publish failed', { cause: withCode('EPIPE') })],
  ['an error nobody classified', new TypeError('something odd')],
])('retryable: %s', (_what, error) => expect(isRetryable(error)).toBe(true));

it.each([
  [
    'a record that is not JSON',
    (() => {
      try {
        JSON.parse('not json');
      } catch (e) {
        return e;
      }
    })(),
  ],
  ['a schema mismatch', z.object({ n: z.number() }).safeParse({ n: 'x' }).error],
  ['a business rule', new ConflictError('order already completed')],
  ['bad input', new ValidationError('no')],
  ['a constraint violation (23503)', pgError('23503')],
  ['a data exception (22P02)', pgError('22P02')],
  ['an exception raised by the database (P0001)', pgError('P0001')],
  ['a declared permanent error', Object.assign(new Error('out of stock'), { retryable: false })],
])('not retryable: %s', (_what, error) => expect(isRetryable(error)).toBe(false));
