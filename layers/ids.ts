/**
 * Deterministic ids. A retried side effect (a payment charge) derives its id from the business
 * key, so a retry can never create a second one. UUIDv5 (RFC 9562 §5.5) is computed here with
 * node:crypto rather than pulling in a package for twenty lines.
 */
import { createHash } from 'node:crypto';

/** The namespace shopstream's name-based ids live in (a fixed random UUID). */
export const SHOPSTREAM_NAMESPACE = '0d5f1f3c-7f0e-4a39-9b7c-54b0f0d4e7a1';

export function uuidV5(name: string, namespace: string = SHOPSTREAM_NAMESPACE): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
