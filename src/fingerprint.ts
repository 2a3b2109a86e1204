import { createHash } from 'node:crypto';

/**
 * How a key or token is ever shown: the first 8 hex digits of its SHA-256, enough to tell two keys apart and
 * nothing to reuse. Never a piece of the value itself.
 */
export function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8)}`;
}
