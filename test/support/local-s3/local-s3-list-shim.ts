import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type S3rver from 's3rver';
import { sendXml, single, xmlEscape } from './local-s3-xml';

type Middleware = S3rver['middleware'][number];

/*
 * ListObjectsV2 for the local server. s3rver 3.7's own listing walks directories unsorted (so
 * pages skip keys) and encrypts continuation tokens with DES, which OpenSSL 3 (Node >= 17) refuses:
 * any listing longer than one page answers 500. This serves `GET /<bucket>?list-type=2` itself:
 * keys in lexicographic order, <= 1000 per page, opaque base64url continuation tokens, prefix and
 * delimiter (CommonPrefixes) as S3 does.
 */

const OBJECT_SUFFIX = '._S3rver_object';
const MAX_KEYS = 1000;
const METADATA_BATCH = 32;

/** Every object key in the bucket folder under `prefix` (s3rver stores key "a/b" as a/b._S3rver_object). */
async function keysUnder(bucketPath: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const name = entry.name;
      if (entry.isDirectory()) {
        const sub = `${rel}${name}/`;
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) await walk(join(dir, name), sub);
      } else if (name.endsWith(OBJECT_SUFFIX)) {
        const key = rel + name.slice(0, -OBJECT_SUFFIX.length);
        if (key.startsWith(prefix)) out.push(key);
      }
    }
  };
  await walk(bucketPath, '');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

interface Page {
  contents: string[];
  prefixes: string[];
  truncated: boolean;
  last: string | undefined;
}

function paginate(keys: string[], prefix: string, delimiter: string, after: string, maxKeys: number): Page {
  const page: Page = { contents: [], prefixes: [], truncated: false, last: undefined };
  for (const key of keys) {
    if (key <= after) continue;
    // a common prefix returned on an earlier page covers all its keys
    if (delimiter && after.endsWith(delimiter) && key.startsWith(after)) continue;
    const idx = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const entry = idx === -1 ? key : key.slice(0, idx + delimiter.length);
    if (entry === page.last) continue;
    if (page.contents.length + page.prefixes.length === maxKeys) {
      page.truncated = true;
      break;
    }
    if (idx === -1) page.contents.push(key);
    else page.prefixes.push(entry);
    page.last = entry;
  }
  return page;
}

export function listObjectsV2Shim(server: S3rver): Middleware {
  return async (ctx, next) => {
    const segments = ctx.path.split('/').filter(Boolean);
    if (ctx.method !== 'GET' || segments.length !== 1 || single(ctx.query['list-type']) !== '2')
      return next();
    const bucket = decodeURIComponent(segments[0]);
    const bucketPath = server.store.getBucketPath(bucket);
    try {
      await readdir(bucketPath);
    } catch {
      return sendXml(
        ctx,
        404,
        `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>${xmlEscape(bucket)}</BucketName></Error>`,
      );
    }
    const prefix = single(ctx.query.prefix) ?? '';
    const delimiter = single(ctx.query.delimiter) ?? '';
    const token = single(ctx.query['continuation-token']);
    const requestedMax = Number(single(ctx.query['max-keys']) ?? MAX_KEYS);
    const maxKeys =
      Number.isInteger(requestedMax) && requestedMax >= 0 ? Math.min(requestedMax, MAX_KEYS) : MAX_KEYS;
    const after = token
      ? Buffer.from(token, 'base64url').toString('utf8')
      : (single(ctx.query['start-after']) ?? '');

    const page = paginate(await keysUnder(bucketPath, prefix), prefix, delimiter, after, maxKeys);
    const contents: string[] = [];
    for (let i = 0; i < page.contents.length; i += METADATA_BATCH) {
      const batch = page.contents.slice(i, i + METADATA_BATCH);
      const metas = await Promise.all(batch.map((key) => server.store.getMetadata(bucket, key)));
      batch.forEach((key, j) => {
        const m = metas[j];
        const modified = new Date(String(m['last-modified'])).toISOString();
        contents.push(
          `<Contents><Key>${xmlEscape(key)}</Key><LastModified>${modified}</LastModified><ETag>${xmlEscape(String(m.etag))}</ETag>` +
            `<Size>${Number(m['content-length'])}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
        );
      });
    }
    const nextToken =
      page.truncated && page.last !== undefined
        ? `<NextContinuationToken>${Buffer.from(page.last).toString('base64url')}</NextContinuationToken>`
        : '';
    sendXml(
      ctx,
      200,
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>` +
        (token ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '') +
        nextToken +
        `<KeyCount>${page.contents.length + page.prefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
        (delimiter ? `<Delimiter>${xmlEscape(delimiter)}</Delimiter>` : '') +
        `<IsTruncated>${page.truncated}</IsTruncated>${contents.join('')}` +
        page.prefixes
          .map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`)
          .join('') +
        `</ListBucketResult>`,
    );
  };
}
