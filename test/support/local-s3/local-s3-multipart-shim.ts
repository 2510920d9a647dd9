import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type S3rver from 's3rver';
import { sendXml, single, xmlEscape } from './local-s3-xml';

type Middleware = S3rver['middleware'][number];
type Context = Parameters<Middleware>[0];

/*
 * s3rver 3.7 implements initiate / upload part / complete for multipart uploads but answers
 * "MethodNotAllowed" to ListParts (GET ?uploadId) and AbortMultipartUpload (DELETE ?uploadId), and
 * fails with a 500 when completing an unknown upload. This middleware, placed in front of s3rver's
 * router, serves those three cases from s3rver's own upload folder
 * (<directory>/<bucket>/._S3rver_uploads/<uploadId>/{key,metadata,<part>,<part>.md5}).
 */

function noSuchUpload(ctx: Context, uploadId: string): void {
  sendXml(
    ctx,
    404,
    `<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${xmlEscape(uploadId)}</UploadId></Error>`,
  );
}

async function uploadKey(dir: string): Promise<string | null> {
  try {
    return await readFile(join(dir, 'key'), 'utf8');
  } catch {
    return null;
  }
}

async function listPartsXml(dir: string, bucket: string, key: string, uploadId: string): Promise<string> {
  const numbers = (await readdir(dir))
    .filter((f) => /^\d+$/.test(f))
    .map(Number)
    .sort((a, b) => a - b);
  const parts = await Promise.all(
    numbers.map(async (n) => {
      const [info, md5] = await Promise.all([
        stat(join(dir, String(n))),
        readFile(join(dir, `${n}.md5`), 'utf8'),
      ]);
      return `<Part><PartNumber>${n}</PartNumber><LastModified>${info.mtime.toISOString()}</LastModified><ETag>"${xmlEscape(md5.trim())}"</ETag><Size>${info.size}</Size></Part>`;
    }),
  );
  return (
    `<ListPartsResult><Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${xmlEscape(uploadId)}</UploadId>` +
    `<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>${numbers.at(-1) ?? 0}</NextPartNumberMarker><MaxParts>10000</MaxParts>` +
    `<IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`
  );
}

export function multipartShim(server: S3rver): Middleware {
  return async (ctx, next) => {
    const uploadId = single(ctx.query.uploadId);
    const handled = ctx.method === 'GET' || ctx.method === 'DELETE' || ctx.method === 'POST';
    const segments = ctx.path.split('/').slice(1);
    if (uploadId === undefined || !handled || segments.length < 2 || !/^[0-9a-f]{1,64}$/.test(uploadId))
      return next();
    const bucket = decodeURIComponent(segments[0]);
    const key = segments.slice(1).map(decodeURIComponent).join('/');
    const dir = join(server.store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const storedKey = await uploadKey(dir);
    if (storedKey !== key) return noSuchUpload(ctx, uploadId);
    if (ctx.method === 'POST') return next();
    if (ctx.method === 'DELETE') {
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      ctx.body = null;
      return;
    }
    sendXml(ctx, 200, await listPartsXml(dir, bucket, key, uploadId));
  };
}
