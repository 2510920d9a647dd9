import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ProblemCode } from '@modelsmith/contracts';
import { ProblemError } from '../problem';
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

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

function isBodyParserError(e: unknown): e is Error & BodyParserError {
  return e instanceof Error && typeof (e as BodyParserError).type === 'string' && typeof (e as BodyParserError).status === 'number';
}

/** Turns every error into an RFC 9457 problem+json response with a stable `code` and the request id. */
export function toProblem(exception: unknown): ProblemError {
  if (exception instanceof ProblemError) return exception;
  if (isDependencyUnavailable(exception)) {
    return new ProblemError({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      title: 'Service unavailable',
      detail: 'a service the platform depends on (database, queue or object store) is not reachable right now; retry shortly',
      headers: { 'Retry-After': String(DEPENDENCY_RETRY_AFTER_SECONDS) },
    });
  }
  if (isBodyParserError(exception)) {
    if (exception.type === 'entity.too.large') {
      return new ProblemError({
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        title: 'Request body too large',
        detail: `request bodies are limited to ${exception.limit ?? 'the configured'} bytes`,
      });
    }
    if (exception.type === 'entity.parse.failed') {
      return new ProblemError({ status: 400, code: 'BAD_REQUEST', title: 'Malformed JSON', detail: exception.message });
    }
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const raw = typeof body === 'string' ? body : (body as { message?: unknown }).message;
    const message = Array.isArray(raw) ? raw.map(String).join('; ') : typeof raw === 'string' ? raw : exception.message;
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
    if (problem.status === 503 && !(exception instanceof ProblemError)) this.logger.warn(`dependency unavailable: ${String(exception instanceof Error ? `${exception.name}: ${exception.message}` : exception)}`);
    else if (problem.status >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [k, v] of Object.entries(problem.headers)) res.setHeader(k, v);
    res.status(problem.status).type('application/problem+json').send(problemBody(problem, req.originalUrl, req.id));
  }
}
