import type { ProblemCode } from '@modelsmith/contracts';

export interface ProblemInit {
  status: number;
  code: ProblemCode;
  title: string;
  detail?: string;
  /** Extension members (RFC 9457 §3.2), e.g. `errors` for validation problems. */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** A domain error that becomes an RFC 9457 problem+json response with a stable `code`. */
export class ProblemError extends Error {
  readonly status: number;
  readonly code: ProblemCode;
  readonly title: string;
  readonly detail?: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(init: ProblemInit) {
    super(init.detail ?? init.title);
    this.name = 'ProblemError';
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.extensions = init.extensions ?? {};
    this.headers = init.headers ?? {};
  }
}

export const notFound = (what: string, id: string): ProblemError =>
  new ProblemError({
    status: 404,
    code: 'NOT_FOUND',
    title: 'Not found',
    detail: `${what} ${id} does not exist`,
  });

export const forbiddenScope = (scope: string): ProblemError =>
  new ProblemError({
    status: 403,
    code: 'INSUFFICIENT_SCOPE',
    title: 'Insufficient scope',
    detail: `this API key lacks the ${scope} scope`,
  });
