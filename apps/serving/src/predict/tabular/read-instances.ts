import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { ProblemError } from '@modelsmith/http';

/** Records one predict request may carry. */
export const MAX_INSTANCES_PER_REQUEST = 1000;

const badRequest = (detail: string, field?: string) =>
  new ProblemError({
    status: 400,
    code: 'BAD_REQUEST',
    title: 'Invalid predict request',
    detail,
    ...(field ? { extensions: { field } } : {}),
  });

const tooLarge = (detail: string) =>
  new ProblemError({ status: 413, code: 'PAYLOAD_TOO_LARGE', title: 'Request too large', detail });

/** The `instances` of `{"instances": [{...}, ...]}`: a non-empty array of at most MAX_INSTANCES_PER_REQUEST items. */
export function parseInstancesBody(body: unknown): unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('the JSON body must be an object with an "instances" array of records', 'instances');
  const { instances } = body as { instances?: unknown };
  if (!Array.isArray(instances))
    throw badRequest('"instances" must be an array of records (column name -> value)', 'instances');
  if (instances.length === 0) throw badRequest('send at least one record in "instances"', 'instances');
  if (instances.length > MAX_INSTANCES_PER_REQUEST)
    throw tooLarge(`a predict request may carry at most ${MAX_INSTANCES_PER_REQUEST} instances`);
  return instances;
}

/** Reads a tabular predict request: a JSON body (size-capped) with `instances`. */
export async function readInstances(req: IncomingMessage, maxBytes: number): Promise<unknown[]> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/json')) {
    req.resume();
    throw new ProblemError({
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      title: 'Unsupported media type',
      detail: 'a tabular model takes application/json: {"instances": [{"column": value, ...}]}',
    });
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw tooLarge(`a predict request may carry at most ${maxBytes} bytes`);
  }
  let raw: Buffer;
  try {
    raw = await getRawBody(req, { limit: maxBytes, length: req.headers['content-length'] });
  } catch (e) {
    if ((e as { type?: string }).type === 'entity.too.large')
      throw tooLarge(`a predict request may carry at most ${maxBytes} bytes`);
    throw badRequest(`could not read the request body: ${e instanceof Error ? e.message : String(e)}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest('the body is not valid JSON');
  }
  return parseInstancesBody(body);
}
