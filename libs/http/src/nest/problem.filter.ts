import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ProblemCode } from '@modelsmith/contracts';
import { ProblemError } from '../problem';
import { requestId } from '../logging';
import { DEPENDENCY_RETRY_AFTER_SECONDS, isDependencyUnavailable, problemBody } from '../problem-response';

const codeByStatus: Record<number, ProblemCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/**
 * What body-parser, raw-body and express's router throw for a request they cannot read: http-errors
 * objects (`expose: true`, a 4xx `status`, body-parser's `type`), or the router's URIError for a path
 * parameter that is not valid percent-encoding (status 400).
 */
interface ClientHttpError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  limit?: number;
}

function clientErrorStatus(e: unknown): number | undefined {
  if (!(e instanceof Error)) return undefined;
  const h = e as Error & ClientHttpError;
  const status = h.status ?? h.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  return typeof h.type === 'string' || h.expose === true || e instanceof URIError ? status : undefined;
}

/** body-parser's error types (plus this platform's depth check) and what a client is told of them. */
const BODY_ERRORS: Record<string, { status: number; code: ProblemCode; title: string }> = {
  'entity.too.large': { status: 413, code: 'PAYLOAD_TOO_LARGE', title: 'Request body too large' },
  'parameters.too.many': { status: 413, code: 'PAYLOAD_TOO_LARGE', title: 'Too many form fields' },
  'entity.parse.failed': { status: 400, code: 'BAD_REQUEST', title: 'Malformed request body' },
  'entity.too.deep': { status: 400, code: 'BAD_REQUEST', title: 'Request body nested too deeply' },
  'entity.verify.failed': { status: 400, code: 'BAD_REQUEST', title: 'Request body refused' },
  'charset.unsupported': { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', title: 'Unsupported charset' },
  'encoding.unsupported': {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    title: 'Unsupported content encoding',
  },
  'request.aborted': { status: 400, code: 'BAD_REQUEST', title: 'Request aborted' },
  'request.size.invalid': { status: 400, code: 'BAD_REQUEST', title: 'Request size mismatch' },
};

/** The 4xx problem of an error reading the request (body, encoding, charset, path), or undefined for any other error. */
export function requestReadProblem(e: unknown): ProblemError | undefined {
  const status = clientErrorStatus(e);
  if (status === undefined) return undefined;
  const err = e as Error & ClientHttpError;
  const known = err.type ? BODY_ERRORS[err.type] : undefined;
  if (err.type === 'entity.too.large') {
    return new ProblemError({
      ...known!,
      detail: `request bodies are limited to ${err.limit ?? 'the configured'} bytes`,
      extensions: { reason: err.type },
    });
  }
  return new ProblemError({
    status: known?.status ?? status,
    code: known?.code ?? codeByStatus[status] ?? 'BAD_REQUEST',
    title: known?.title ?? (e instanceof URIError ? 'Malformed path' : 'Unreadable request'),
    detail: err.message,
    ...(err.type ? { extensions: { reason: err.type } } : {}),
  });
}

/**
 * What a route that reads or writes objects answers when the object store refuses: an outage is a
 * retried 503; a stored file that is gone is a 404; a refused argument a 4xx. Details are generic: a
 * store's message names object keys, which are internal. Matched by shape (libs/http does not depend on
 * libs/storage): a StorageError has that name and a string `code`.
 */
const STORAGE_PROBLEMS: Record<string, { status: number; code: ProblemCode; title: string; detail: string }> =
  {
    OBJECT_NOT_FOUND: {
      status: 404,
      code: 'NOT_FOUND',
      title: 'Stored file missing',
      detail: 'a file this resource needs is no longer in the object store',
    },
    UPLOAD_NOT_FOUND: {
      status: 409,
      code: 'CONFLICT',
      title: 'Upload closed',
      detail: 'the multipart upload is finished, aborted or unknown to the object store',
    },
    ENTITY_TOO_LARGE: {
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      title: 'Object too large',
      detail: 'the object store refused the size of what was sent',
    },
    INVALID_PART: {
      status: 400,
      code: 'BAD_REQUEST',
      title: 'Invalid parts',
      detail: 'the object store refused the parts named',
    },
    INVALID_RANGE: {
      status: 400,
      code: 'BAD_REQUEST',
      title: 'Invalid range',
      detail: 'the byte range is outside the object',
    },
    INVALID_ARGUMENT: {
      status: 400,
      code: 'BAD_REQUEST',
      title: 'Invalid argument',
      detail: 'the object store refused an argument',
    },
    INVALID_KEY: {
      status: 400,
      code: 'BAD_REQUEST',
      title: 'Invalid name',
      detail: 'the object store refused a name',
    },
  };

function storageProblem(e: unknown): ProblemError | undefined {
  if (!(e instanceof Error) || e.name !== 'StorageError') return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  const known = STORAGE_PROBLEMS[code];
  if (known) return new ProblemError(known);
  // STORAGE_UNAVAILABLE, STORAGE_ERROR, BUCKET_NOT_FOUND, NOT_SUPPORTED_BY_BACKEND, …: the store (or
  // its configuration) is failing, not the request.
  return new ProblemError({
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    title: 'Service unavailable',
    detail: 'the object store is not answering as it should right now; retry shortly',
    headers: { 'Retry-After': String(DEPENDENCY_RETRY_AFTER_SECONDS) },
  });
}

/** Turns every error into an RFC 9457 problem+json response with a stable `code` and the request id. */
export function toProblem(exception: unknown): ProblemError {
  if (exception instanceof ProblemError) return exception;
  if (isDependencyUnavailable(exception)) {
    return new ProblemError({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      title: 'Service unavailable',
      detail:
        'a service the platform depends on (database, queue or object store) is not reachable right now; retry shortly',
      headers: { 'Retry-After': String(DEPENDENCY_RETRY_AFTER_SECONDS) },
    });
  }
  const stored = storageProblem(exception);
  if (stored) return stored;
  const unreadable = requestReadProblem(exception);
  if (unreadable) return unreadable;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const raw = typeof body === 'string' ? body : (body as { message?: unknown }).message;
    const message = Array.isArray(raw)
      ? raw.map(String).join('; ')
      : typeof raw === 'string'
        ? raw
        : exception.message;
    return new ProblemError({
      status,
      code: codeByStatus[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST'),
      title: exception.name.replace(/Exception$/, '').replace(/([a-z])([A-Z])/g, '$1 $2'),
      detail: message,
    });
  }
  return new ProblemError({ status: 500, code: 'INTERNAL', title: 'Internal server error' });
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    const problem = toProblem(exception);
    // An outage of a dependency is logged once per request as a line, not as a stack: it is expected
    // to pass, and the dependency's own health says more (GET /v1/health/ready).
    if (problem.status === 503 && !(exception instanceof ProblemError))
      this.logger.warn(
        `dependency unavailable: ${String(exception instanceof Error ? `${exception.name}: ${exception.message}` : exception)}`,
      );
    else if (exception instanceof Error && exception.name === 'StorageError')
      // A missing stored file is a 404 to the client but an inconsistency to the operator.
      this.logger.warn(`object store refused: ${exception.message}`);
    else if (problem.status >= 500)
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [k, v] of Object.entries(problem.headers)) res.setHeader(k, v);
    // A request refused before the logging middleware ran (its body could not be read, its path not
    // decoded) has no id yet: it gets one here, so every problem carries one.
    const id = req.id ?? requestId(req, res);
    res
      .status(problem.status)
      .type('application/problem+json')
      .send(problemBody(problem, req.originalUrl, id));
  }
}
