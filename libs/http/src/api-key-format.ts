import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `msk_<8 hex id>_<43 char base64url secret>`. The part before the second underscore
 * (`msk_<id>`) is the public prefix, stored in clear and shown in listings; only a SHA-256 of the whole
 * key is stored. Keys carry 256 bits of entropy, so a fast hash is safe (no password stretching needed).
 */
export const KEY_PREFIX = 'msk_';
const KEY_PATTERN = /^(msk_[0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedKey {
  key: string;
  prefix: string;
  secretHash: string;
}

/** SHA-256 of the whole key, hex. One-shot `crypto.hash` (no Hash object): it runs on every predict request. */
export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

export function generateApiKey(): GeneratedKey {
  const prefix = `${KEY_PREFIX}${randomBytes(4).toString('hex')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, secretHash: hashKey(key) };
}

/** Returns the public prefix of a well-formed key, or null for anything else. */
export function parseApiKey(key: string): string | null {
  const m = KEY_PATTERN.exec(key);
  return m ? m[1] : null;
}

export function keyMatchesHash(key: string, secretHash: string): boolean {
  const a = Buffer.from(hashKey(key), 'hex');
  const b = Buffer.from(secretHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function tokensEqual(a: string, b: string): boolean {
  const ha = hash('sha256', a, 'buffer');
  const hb = hash('sha256', b, 'buffer');
  return timingSafeEqual(ha, hb);
}
