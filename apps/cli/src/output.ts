import { SingleBar } from 'cli-progress';
import { describeProblem, ModelsmithError } from '@modelsmith/sdk';

/** How a command talks to its user: tables and progress bars on a terminal, one JSON document with --json. */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly err: NodeJS.WriteStream = process.stderr,
  ) {}

  /** The command's result: JSON with --json, else `human(value)` (or JSON when there is no human form). */
  result(value: unknown, human?: (v: never) => string): void {
    if (this.json || !human) this.out.write(`${JSON.stringify(value, null, this.json ? 2 : 0)}\n`);
    else this.out.write(`${human(value as never)}\n`);
  }

  /** A line of commentary, on stderr (stdout stays the result), silent with --json. */
  note(line: string): void {
    if (!this.json) this.err.write(`${line}\n`);
  }

  /** A progress bar on an interactive stderr; nothing otherwise (CI logs, --json, pipes). */
  bar(label: string, total: number, unit: 'bytes' | 'percent'): Progress {
    if (this.json || !this.err.isTTY) return { update: () => undefined, stop: () => undefined };
    const fmt =
      unit === 'bytes'
        ? `${label} [{bar}] {percentage}% | {done}/{size} | ETA {eta_formatted}`
        : `${label} [{bar}] {percentage}% | {stage} | ETA {eta_text}`;
    const bar = new SingleBar({ format: fmt, stream: this.err, hideCursor: true, etaBuffer: 20 });
    bar.start(total, 0, { done: mb(0), size: mb(total), stage: '', eta_text: '…' });
    return {
      update: (value, payload = {}) =>
        bar.update(value, unit === 'bytes' ? { done: mb(value), ...payload } : payload),
      stop: () => bar.stop(),
    };
  }
}

export interface Progress {
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

export function mb(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '…';
  // Rounded to whole seconds first: 119.6 s is 2m00s, not 1m60s.
  const whole = Math.round(s);
  const m = Math.floor(whole / 60);
  return m ? `${m}m${String(whole % 60).padStart(2, '0')}s` : `${whole}s`;
}

/** Rows as aligned columns. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (!rows.length) return '(none)';
  const cell = (v: unknown): string =>
    v === null || v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.toUpperCase())),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join('\n');
}

/** What the user reads when a command fails: the problem's title, code and detail, and a hint. */
export function failureMessage(e: unknown): string {
  if (e instanceof ModelsmithError) {
    const hint =
      e.status === 401
        ? '\n  hint: run `modelsmith login` or pass --key (the key may be revoked or mistyped)'
        : e.status === 403
          ? '\n  hint: the key lacks the scope this needs'
          : e.retryAfterSeconds
            ? `\n  hint: retry in ${e.retryAfterSeconds}s`
            : '';
    return `error: ${describeProblem(e.problem)}${hint}`;
  }
  if (e instanceof TypeError && /fetch failed/i.test(e.message)) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return `error: cannot reach the API (${cause?.code ?? cause?.message ?? 'network error'}); is it running, and is --url right?`;
  }
  return `error: ${e instanceof Error ? e.message : String(e)}`;
}
