import { createGunzip } from 'node:zlib';
import { IngestionError } from '../errors';
import { readRange, type ByteSource } from '../source/byte-source';
import type { Container } from './format-types';

const HEAD_BYTES = 64 * 1024;

/** Gunzips the start of a gzip stream (at most 1 KiB of output) to look for a tar header. */
async function gunzipHead(head: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const gz = createGunzip();
    const out: Buffer[] = [];
    let size = 0;
    const finish = (): void => resolve(Buffer.concat(out));
    gz.on('data', (chunk: Buffer) => {
      out.push(chunk);
      size += chunk.length;
      if (size >= 1024) {
        gz.removeAllListeners('data');
        gz.destroy();
        finish();
      }
    });
    gz.on('end', finish);
    gz.on('error', finish);
    gz.end(head);
  });
}

function looksBinary(head: Buffer): boolean {
  const n = Math.min(head.length, 8192);
  for (let i = 0; i < n; i++) if (head[i] === 0) return true;
  return false;
}

function firstNonSpace(head: Buffer): string {
  const text = head
    .subarray(0, 4096)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  return text.trimStart().charAt(0);
}

const NAME_HINTS: { re: RegExp; container: Container }[] = [
  { re: /\.zip$/i, container: 'zip' },
  { re: /\.(tar\.gz|tgz)$/i, container: 'tar.gz' },
  { re: /\.(jsonl|ndjson)$/i, container: 'jsonl' },
  { re: /\.(csv|tsv)$/i, container: 'csv' },
];

/** Detects the container from magic bytes, using the name only to tell CSV from JSONL text. */
export async function sniffContainer(source: ByteSource): Promise<Container> {
  if (source.size === 0) {
    throw new IngestionError('empty_archive', `"${source.name}" is empty`, { file: source.name });
  }
  const head = await readRange(source, 0, HEAD_BYTES);
  if (
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    (head[2] === 0x03 || head[2] === 0x05) &&
    (head[3] === 0x04 || head[3] === 0x06)
  ) {
    return 'zip';
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const tar = await gunzipHead(head);
    if (tar.length >= 262 && tar.subarray(257, 262).toString('latin1') === 'ustar') return 'tar.gz';
    // An empty tar is only zero blocks.
    if (tar.length > 0 && tar.every((b) => b === 0)) return 'tar.gz';
    throw new IngestionError(
      'unknown_format',
      `"${source.name}" is gzip-compressed but does not contain a tar archive`,
      { file: source.name },
    );
  }
  if (looksBinary(head)) {
    throw new IngestionError('unknown_format', `"${source.name}" is not a zip, tar.gz, CSV or JSONL file`, {
      file: source.name,
    });
  }
  const hint = NAME_HINTS.find((h) => h.re.test(source.name))?.container;
  if (hint === 'jsonl' || (hint !== 'csv' && firstNonSpace(head) === '{')) return 'jsonl';
  return 'csv';
}

const ACCEPTED_TYPES: Record<Container, readonly string[]> = {
  zip: ['application/zip', 'application/x-zip-compressed', 'application/x-zip', 'multipart/x-zip'],
  'tar.gz': [
    'application/gzip',
    'application/x-gzip',
    'application/x-tar',
    'application/x-gtar',
    'application/x-compressed-tar',
    'application/tar+gzip',
  ],
  csv: [
    'text/csv',
    'text/plain',
    'application/csv',
    'text/comma-separated-values',
    'application/vnd.ms-excel',
    'text/tab-separated-values',
  ],
  jsonl: [
    'application/x-ndjson',
    'application/jsonl',
    'application/x-jsonlines',
    'application/json',
    'text/plain',
    'application/jsonlines',
  ],
};
const GENERIC_TYPES = ['application/octet-stream', 'binary/octet-stream', ''];

/** Rejects a declared content type that contradicts the detected container. */
export function checkContentType(source: ByteSource, container: Container): void {
  if (source.contentType === undefined) return;
  const declared = source.contentType.split(';')[0].trim().toLowerCase();
  if (GENERIC_TYPES.includes(declared) || ACCEPTED_TYPES[container].includes(declared)) return;
  throw new IngestionError(
    'content_type_mismatch',
    `"${source.name}" was sent as ${declared} but its content is ${container}`,
    { file: source.name },
  );
}
