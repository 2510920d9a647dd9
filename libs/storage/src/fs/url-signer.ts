import { createHmac, timingSafeEqual } from 'node:crypto';
import { StorageError } from '../errors';
import { assertObjectKey, MAX_PRESIGN_SECONDS } from '../object-store';

/** What a presigned URL of the filesystem store allows: one method on one key (one part of one upload for PUT). */
export interface ObjectGrant {
  method: 'GET' | 'PUT';
  key: string;
  /** Unix seconds after which the URL is refused. */
  expires: number;
  uploadId?: string;
  partNumber?: number;
  /** PUT: most bytes the part may have. */
  maxBytes?: number;
  /** GET: file name for Content-Disposition. */
  downloadName?: string;
}

/** Path under the API's base URL where the filesystem store's presigned URLs are served. */
export const OBJECTS_ROUTE = '/v1/objects/';
const VERSION = 'modelsmith-object-url/1';
const SIGNATURE_LENGTH = 43; // 32 bytes, base64url without padding
const PARAMS = {
  expires: 'expires',
  uploadId: 'uploadId',
  partNumber: 'partNumber',
  maxBytes: 'maxBytes',
  downloadName: 'filename',
  signature: 'signature',
} as const;
const KNOWN = new Set<string>(Object.values(PARAMS));

/** Why a presigned URL was refused; the route answers 403 (never data). */
export class ObjectUrlRefused extends Error {
  override readonly name = 'ObjectUrlRefused';
}

/** The key as it appears in a URL path: each segment percent-encoded. */
export function keyToPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** The key of a URL path below OBJECTS_ROUTE (raw, still percent-encoded); null when it is not a valid key. */
export function pathToKey(rawPath: string): string | null {
  try {
    const key = rawPath.split('/').map(decodeURIComponent).join('/');
    return assertObjectKey(key);
  } catch {
    return null;
  }
}

function strictInt(value: string | null, min: number, max: number): number | undefined {
  if (value === null || !/^(0|[1-9]\d{0,15})$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

/**
 * Signs and verifies the filesystem store's presigned URLs: HMAC-SHA256 (key: STORAGE_URL_SECRET)
 * over the method, the object key, the expiry and, for a part upload, the upload id, part number and
 * size limit, and for a download the file name. Compared in constant time; nothing else in the URL
 * is accepted, so a URL opens exactly one object (or receives exactly one part) until it expires.
 */
export class ObjectUrlSigner {
  private readonly baseUrl: string;

  constructor(
    private readonly secret: string,
    baseUrl: string,
  ) {
    if (secret.length < 32)
      throw new StorageError(
        'STORAGE_CONFIG_INVALID',
        'the URL signing secret must be at least 32 characters',
      );
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new StorageError('STORAGE_CONFIG_INVALID', `public URL "${baseUrl}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new StorageError('STORAGE_CONFIG_INVALID', `public URL "${baseUrl}" must use http or https`);
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  sign(grant: ObjectGrant): string {
    const query = new URLSearchParams();
    query.set(PARAMS.expires, String(grant.expires));
    if (grant.uploadId !== undefined) query.set(PARAMS.uploadId, grant.uploadId);
    if (grant.partNumber !== undefined) query.set(PARAMS.partNumber, String(grant.partNumber));
    if (grant.maxBytes !== undefined) query.set(PARAMS.maxBytes, String(grant.maxBytes));
    if (grant.downloadName !== undefined) query.set(PARAMS.downloadName, grant.downloadName);
    query.set(PARAMS.signature, this.mac(grant).toString('base64url'));
    return `${this.baseUrl}${OBJECTS_ROUTE}${keyToPath(grant.key)}?${query.toString()}`;
  }

  /**
   * The grant a request carries, or ObjectUrlRefused: unknown or repeated parameters, a signature
   * that is missing, malformed or not this URL's (another key, method, expiry, upload, part, limit or
   * name), or an expiry that has passed or lies further ahead than any URL is signed for.
   */
  verify(method: string, key: string, query: URLSearchParams, nowMs = Date.now()): ObjectGrant {
    for (const name of query.keys()) {
      if (!KNOWN.has(name)) throw new ObjectUrlRefused(`unexpected parameter "${name}"`);
      if (query.getAll(name).length !== 1)
        throw new ObjectUrlRefused(`parameter "${name}" given more than once`);
    }
    const signature = query.get(PARAMS.signature);
    if (signature === null || signature.length !== SIGNATURE_LENGTH || !/^[A-Za-z0-9_-]+$/.test(signature))
      throw new ObjectUrlRefused('missing or malformed signature');
    if (method !== 'GET' && method !== 'PUT') throw new ObjectUrlRefused(`method ${method} is not allowed`);
    const now = Math.floor(nowMs / 1000);
    const expires = strictInt(query.get(PARAMS.expires), 0, Number.MAX_SAFE_INTEGER);
    if (expires === undefined) throw new ObjectUrlRefused('missing or malformed expiry');
    const grant: ObjectGrant = { method, key, expires };
    const uploadId = query.get(PARAMS.uploadId);
    if (uploadId !== null) grant.uploadId = uploadId;
    const partNumber = query.get(PARAMS.partNumber);
    if (partNumber !== null) {
      const n = strictInt(partNumber, 1, 10_000);
      if (n === undefined) throw new ObjectUrlRefused('malformed part number');
      grant.partNumber = n;
    }
    const maxBytes = query.get(PARAMS.maxBytes);
    if (maxBytes !== null) {
      const n = strictInt(maxBytes, 0, Number.MAX_SAFE_INTEGER);
      if (n === undefined) throw new ObjectUrlRefused('malformed size limit');
      grant.maxBytes = n;
    }
    const downloadName = query.get(PARAMS.downloadName);
    if (downloadName !== null) grant.downloadName = downloadName;

    const given = Buffer.from(signature, 'base64url');
    const expected = this.mac(grant);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new ObjectUrlRefused('signature does not match');
    if (expires < now) throw new ObjectUrlRefused('the URL has expired');
    if (expires > now + MAX_PRESIGN_SECONDS + 60)
      throw new ObjectUrlRefused('the expiry lies beyond the longest lifetime a URL is signed for');
    if (method === 'PUT' && (grant.uploadId === undefined || grant.partNumber === undefined))
      throw new ObjectUrlRefused('a PUT URL must name an upload and a part');
    if (
      method === 'GET' &&
      (grant.uploadId !== undefined || grant.partNumber !== undefined || grant.maxBytes !== undefined)
    )
      throw new ObjectUrlRefused('a GET URL names no upload');
    return grant;
  }

  private mac(grant: ObjectGrant): Buffer {
    const canonical = JSON.stringify([
      VERSION,
      grant.method,
      grant.key,
      grant.expires,
      grant.uploadId ?? null,
      grant.partNumber ?? null,
      grant.maxBytes ?? null,
      grant.downloadName ?? null,
    ]);
    return createHmac('sha256', this.secret).update(canonical).digest();
  }
}
