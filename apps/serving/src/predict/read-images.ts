import type { Busboy } from 'busboy';
import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import {
  formFieldProblem,
  malformedMultipart,
  multipartParser,
  ProblemError,
  tooManyParts,
} from '@modelsmith/http';

export interface PredictLimits {
  maxBytes: number;
  maxImages: number;
  /** Most `instances` of a JSON body (default maxImages). */
  maxInstances?: number;
}

export interface PredictInput {
  images: Buffer[];
  /** `{"instances": [...]}` (text models): as sent, checked against the model by its engine. */
  instances?: unknown[];
  topK?: number;
  /** The `explain` member of a JSON body, or the `explain` form field (JSON text), unparsed; undefined when absent. */
  explain?: unknown;
}

const tooLarge = (limits: PredictLimits) =>
  new ProblemError({
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    title: 'Request too large',
    detail: `a predict request may carry at most ${limits.maxBytes} bytes`,
  });

const tooMany = (limits: PredictLimits) =>
  new ProblemError({
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    title: 'Too many images',
    detail: `a predict request may carry at most ${limits.maxImages} images`,
  });

const badRequest = (detail: string) =>
  new ProblemError({ status: 400, code: 'BAD_REQUEST', title: 'Invalid predict request', detail });

/** `topK` from a form field or JSON member: an integer 1..100, or undefined when absent. */
export function parseTopK(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100)
    throw badRequest('topK must be an integer from 1 to 100');
  return n;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** One image given as base64 (standard or url-safe alphabet), optionally as a `data:` URL. */
export function decodeBase64Image(value: unknown, index: number): Buffer {
  if (typeof value !== 'string')
    throw badRequest(`images[${index}] must be a base64 string (or an object with a "base64" member)`);
  const data = value.startsWith('data:') ? value.slice(value.indexOf(',') + 1) : value;
  const compact = data.replace(/\s+/g, '');
  if (compact.length === 0 || !BASE64.test(compact)) throw badRequest(`images[${index}] is not valid base64`);
  return Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
}

/**
 * The JSON body `{ "instances": [...], "topK"?: n, "explain"?: {...} }` for models that take text (or records): the
 * array as sent, at most `maxInstances` long; what each instance must be depends on the model.
 */
export function parseInstancesBody(
  body: { instances?: unknown; topK?: unknown; explain?: unknown },
  maxInstances: number,
): PredictInput {
  if (!Array.isArray(body.instances))
    throw new ProblemError({
      status: 400,
      code: 'VALIDATION_FAILED',
      title: 'Invalid predict request',
      detail: 'instances: must be an array',
      extensions: { errors: [{ field: 'instances', messages: ['must be an array'] }] },
    });
  if (body.instances.length > maxInstances)
    throw new ProblemError({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      title: 'Too many instances',
      detail: `a predict request may carry at most ${maxInstances} instances`,
      extensions: { errors: [{ field: 'instances', messages: [`at most ${maxInstances} items`] }] },
    });
  return {
    images: [],
    instances: body.instances,
    topK: parseTopK(body.topK),
    ...(body.explain !== undefined ? { explain: body.explain } : {}),
  };
}

/** The JSON body `{ "images": ["<base64>", {"base64": "<base64>"}, ...], "topK"?: n }` (or `"image": "<base64>"`). */
export function parseJsonBody(body: unknown, limits: PredictLimits): PredictInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest(
      'the JSON body must be an object with an "images" array (or "instances" for text models)',
    );
  if ('instances' in body) return parseInstancesBody(body, limits.maxInstances ?? limits.maxImages);
  const { images, image, topK, explain } = body as {
    images?: unknown;
    image?: unknown;
    topK?: unknown;
    explain?: unknown;
  };
  const list: unknown[] = Array.isArray(images) ? images : image !== undefined ? [image] : [];
  if (images !== undefined && !Array.isArray(images)) throw badRequest('"images" must be an array');
  if (list.length === 0) throw badRequest('send at least one image in "images"');
  if (list.length > limits.maxImages) throw tooMany(limits);
  return {
    images: list.map((item, i) =>
      decodeBase64Image(
        typeof item === 'object' && item !== null
          ? ((item as { base64?: unknown; data?: unknown }).base64 ?? (item as { data?: unknown }).data)
          : item,
        i,
      ),
    ),
    topK: parseTopK(topK),
    ...(explain !== undefined ? { explain } : {}),
  };
}

function readMultipart(req: IncomingMessage, limits: PredictLimits): Promise<PredictInput> {
  return new Promise((resolve, reject) => {
    const images: Buffer[] = [];
    let topK: unknown;
    let explain: unknown;
    let total = 0;
    let failed = false;
    let parser: Busboy;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume();
      reject(e);
    };
    try {
      parser = multipartParser(req, {
        files: limits.maxImages,
        fileSize: limits.maxBytes,
        fields: 20,
        fieldSize: 1024,
        parts: limits.maxImages + 20,
      });
    } catch (e) {
      req.resume();
      reject(malformedMultipart(e));
      return;
    }
    parser.on('file', (_name, stream) => {
      // First: busboy destroys a file stream with an error when the body ends inside it
      // ("Unexpected end of form"); an 'error' nobody listens to would end the process.
      stream.on('error', (e) => fail(malformedMultipart(e)));
      if (failed) return void stream.resume();
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > limits.maxBytes) fail(tooLarge(limits));
        else if (!failed) chunks.push(chunk);
      });
      stream.on('limit', () => fail(tooLarge(limits)));
      stream.on('end', () => images.push(Buffer.concat(chunks)));
    });
    parser.on('field', (name, value, info) => {
      const problem = formFieldProblem(name, value, info, 1024);
      if (problem) return fail(problem);
      if (name === 'topK') topK = value;
      if (name === 'explain') {
        try {
          explain = JSON.parse(value);
        } catch {
          return fail(badRequest('the explain field must be a JSON object, e.g. {"method":"grad-cam"}'));
        }
      }
    });
    parser.on('filesLimit', () => fail(tooMany(limits)));
    parser.on('fieldsLimit', () => fail(tooManyParts('fields', 20)));
    parser.on('partsLimit', () => fail(tooManyParts('parts', limits.maxImages + 20)));
    parser.on('error', (e: Error) => fail(malformedMultipart(e)));
    parser.on('close', () => {
      if (failed) return;
      if (images.length === 0) return fail(badRequest('send at least one image as a file part'));
      try {
        resolve({ images, topK: parseTopK(topK), ...(explain !== undefined ? { explain } : {}) });
      } catch (e) {
        fail(e as Error);
      }
    });
    req.on('error', (e) => fail(malformedMultipart(e)));
    req.pipe(parser);
  });
}

async function readBody(req: IncomingMessage, limits: PredictLimits): Promise<Buffer> {
  try {
    return await getRawBody(req, { limit: limits.maxBytes, length: req.headers['content-length'] });
  } catch (e) {
    if ((e as { type?: string }).type === 'entity.too.large') throw tooLarge(limits);
    throw badRequest(`could not read the request body: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The images of a predict request, size-capped while reading: multipart/form-data (every file part is
 * an image, optional `topK` field), JSON with base64 images, or one raw image body (image/*).
 */
export async function readPredictImages(req: IncomingMessage, limits: PredictLimits): Promise<PredictInput> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limits.maxBytes) throw tooLarge(limits);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return readMultipart(req, limits);
  if (type.startsWith('application/json')) {
    const raw = await readBody(req, limits);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw badRequest('the body is not valid JSON');
    }
    return parseJsonBody(body, limits);
  }
  if (type.startsWith('image/') || type.startsWith('application/octet-stream')) {
    const raw = await readBody(req, limits);
    if (raw.length === 0) throw badRequest('the request body is empty');
    return { images: [raw] };
  }
  throw new ProblemError({
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    title: 'Unsupported content type',
    detail: `send images as multipart/form-data, as JSON {"images": ["<base64>"]}, or one image with an image/* content type; texts as JSON {"instances": ["..."]} (got "${type || 'none'}")`,
  });
}
