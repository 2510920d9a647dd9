/** An RFC 9457 problem document as the platform answers it (every error has a stable `code`). */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

/** A request the platform refused or could not serve: the problem document, and what to do about it. */
export class ModelsmithError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    readonly retryAfterSeconds?: number,
  ) {
    super(describeProblem(problem));
    this.name = 'ModelsmithError';
  }

  get code(): string | undefined {
    return this.problem.code;
  }
}

/** One readable line: "title (CODE): detail". */
export function describeProblem(p: Problem): string {
  const head = p.title ?? `HTTP ${p.status}`;
  const code = p.code ? ` (${p.code})` : '';
  return p.detail ? `${head}${code}: ${p.detail}` : `${head}${code}`;
}

/** The problem a response carries, or one made from its status when the body is not a problem. */
export async function problemOf(res: Response, body?: unknown): Promise<ModelsmithError> {
  let problem: Problem = { status: res.status, title: res.statusText || `HTTP ${res.status}` };
  const parsed =
    body !== undefined
      ? body
      : await res
          .clone()
          .json()
          .catch(() => undefined);
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    problem = { ...problem, ...(parsed as Record<string, unknown>), status: res.status };
  }
  const retry = Number(res.headers.get('retry-after'));
  return new ModelsmithError(res.status, problem, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}
