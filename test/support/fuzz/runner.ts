/**
 * Runs the fuzz: one fast-check property per operation (its own seed, derived from the run's seed and
 * the operation), every answer judged by oracle.ts, failures shrunk by fast-check and reported with
 * the route, method and shrunk request. A platform process that exits ends the run at once, reported
 * with the requests that came just before.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import type { FuzzContext } from './bodies';
import { judge } from './oracle';
import { opKey, type Credential, type Operation } from './operations';
import { requestFor, type FuzzRequest } from './requests';
import { send, type Outcome } from './send';

export interface FuzzOptions {
  ops: Operation[];
  ctx: FuzzContext;
  baseUrl: (app: Operation['app']) => string;
  token: (credential: Credential) => string | undefined;
  seed: number;
  /** Requests per operation. */
  runs: number;
  /** Only the operations whose `METHOD /path` contains this. */
  only?: string;
  /** fast-check's replay path of a reported failure (with `only` naming its operation). */
  replayPath?: string;
  /**
   * Requests spent shrinking one operation's failure (default 100): past it, fast-check keeps the
   * smallest failing request found so far. Counted, not timed, so that a replay shrinks the same way.
   */
  shrinkBudget?: number;
  /** The name of a platform process that has exited, if one has. */
  deadProcess: () => string | undefined;
  /** The recent output of a platform process (for the report of one that exited). */
  processOutput?: (name: string) => string;
  log?: (line: string) => void;
}

export interface FuzzFailure {
  op: string;
  seed: number;
  /** fast-check's path to the shrunk counterexample (replay with the seed). */
  path?: string;
  problem: string;
  request: FuzzRequest;
  outcome?: Outcome;
  /** Set when a process exited: the last requests sent before it was seen gone (newest last). */
  crash?: { process: string; lastRequests: FuzzRequest[]; output?: string };
}

export interface FuzzReport {
  seed: number;
  runs: number;
  requests: number;
  ms: number;
  operations: { op: string; requests: number; ms: number }[];
  failures: FuzzFailure[];
}

class AnswerProblem extends Error {
  constructor(
    message: string,
    readonly outcome: Outcome,
  ) {
    super(message);
  }
}

/** 32-bit FNV-1a of the operation, mixed into the run's seed: each operation replays on its own. */
export function operationSeed(seed: number, op: string): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(op)) h = Math.imul(h ^ c, 0x01000193);
  return (seed ^ h) | 0;
}

/** Deletions last, so that the fixtures they may remove serve every other operation first. */
const order = (op: Operation) => (op.method === 'DELETE' ? 1 : 0);

export async function fuzz(o: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const report: FuzzReport = { seed: o.seed, runs: o.runs, requests: 0, ms: 0, operations: [], failures: [] };
  const recent: FuzzRequest[] = [];
  let crash: FuzzFailure['crash'];
  const ops = o.ops.filter((op) => !o.only || opKey(op).includes(o.only)).sort((a, b) => order(a) - order(b));
  for (const op of ops) {
    const key = opKey(op);
    const opStarted = Date.now();
    let requests = 0;
    let firstFailureAt: number | undefined;
    const budget = o.shrinkBudget ?? 100;
    const base = o.baseUrl(op.app);
    const token = o.token(op.credential);
    const property = fc.asyncProperty(requestFor(op, o.ctx), async (req) => {
      if (crash) throw new Error(`${crash.process} has exited`);
      // Past the budget every shrink candidate 'passes', so fast-check settles on the smallest failure so far.
      if (firstFailureAt !== undefined && requests - firstFailureAt >= budget) return;
      const out = await send(base, req, token);
      requests++;
      recent.push(req);
      if (recent.length > 5) recent.shift();
      let dead = o.deadProcess();
      if (!dead && out.status === undefined && !out.abandoned) {
        await new Promise((r) => setTimeout(r, 500));
        dead = o.deadProcess();
      }
      if (dead) {
        crash = { process: dead, lastRequests: [...recent], output: o.processOutput?.(dead).slice(-3_000) };
        throw new Error(`${dead} exited`);
      }
      const problem = judge(out);
      if (problem) {
        firstFailureAt ??= requests;
        throw new AnswerProblem(problem, out);
      }
    });
    const seed = operationSeed(o.seed, key);
    const details = await fc.check(property, {
      seed,
      numRuns: o.runs,
      ...(o.replayPath ? { path: o.replayPath, endOnFailure: true } : {}),
    });
    report.requests += requests;
    report.operations.push({ op: key, requests, ms: Date.now() - opStarted });
    o.log?.(
      `${key}: ${requests} requests in ${Date.now() - opStarted} ms${details.failed ? ' - FAILED' : ''}`,
    );
    if (crash) {
      report.failures.push({
        op: key,
        seed,
        problem: `${crash.process} exited`,
        request: crash.lastRequests[crash.lastRequests.length - 1],
        crash,
      });
      break;
    }
    if (details.failed && details.counterexample) {
      const e = details.errorInstance;
      report.failures.push({
        op: key,
        seed,
        path: details.counterexamplePath ?? undefined,
        problem: e instanceof Error ? e.message : String(e),
        request: details.counterexample[0],
        outcome: e instanceof AnswerProblem ? e.outcome : undefined,
      });
    }
  }
  report.ms = Date.now() - started;
  return report;
}

function shown(text: string, max: number): string {
  const s = JSON.stringify(text.length > max ? text.slice(0, max) : text);
  return text.length > max ? `${s}… (${text.length} chars)` : s;
}

/** A request as text a person can replay: request line, headers (the valid credential named, not shown), body. */
export function formatRequest(r: FuzzRequest): string {
  const lines = [`${r.method} ${shown(r.target, 400)} (${r.app})`];
  switch (r.auth.kind) {
    case 'valid':
      lines.push('  authorization: <the valid credential>');
      break;
    case 'none':
      lines.push('  authorization: <none>');
      break;
    case 'raw':
      lines.push(`  authorization: ${shown(r.auth.value, 200)}`);
      break;
    case 'mangled':
      lines.push(
        `  authorization: <the valid credential, ${r.auth.how}> (extra ${shown(r.auth.extra, 100)})`,
      );
      break;
  }
  for (const [k, v] of [...(r.body?.headers ?? []), ...r.headers]) lines.push(`  ${k}: ${shown(v, 200)}`);
  if (r.body) {
    const b = r.body.bytes;
    const utf8 = isUtf8(b);
    const abandoned =
      r.body.abortAfter !== undefined ? `, connection dropped after ${r.body.abortAfter} bytes` : '';
    lines.push(
      `  body: ${r.body.kind}, ${b.length} bytes${abandoned}${utf8 ? '' : ', not UTF-8 (shown as latin1)'}`,
    );
    lines.push(`    ${shown(b.toString(utf8 ? 'utf8' : 'latin1'), 1_200)}`);
    if (r.body.plain !== undefined) lines.push(`    decoded: ${shown(r.body.plain, 1_200)}`);
  }
  return lines.join('\n');
}

export function formatFailure(f: FuzzFailure, runSeed: number): string {
  const head = `${f.op}: ${f.problem}`;
  const replay = `  replay: FUZZ_SEED=${runSeed} FUZZ_ONLY=${JSON.stringify(f.op)}${f.path ? ` FUZZ_PATH=${f.path}` : ''} (operation seed ${f.seed})`;
  if (f.crash) {
    const output = f.crash.output ? [`  the end of its output:`, f.crash.output.replace(/^/gm, '    ')] : [];
    return [
      head,
      `  last requests before ${f.crash.process} was seen gone (newest last):`,
      ...f.crash.lastRequests.map((r) => formatRequest(r).replace(/^/gm, '    ')),
      ...output,
    ].join('\n');
  }
  const answer =
    f.outcome?.status !== undefined
      ? `  answer: ${f.outcome.status} ${String(f.outcome.headers['content-type'] ?? '')} ${shown(f.outcome.body.toString('utf8'), 600)}`
      : '';
  return [head, replay, '  shrunk request:', formatRequest(f.request).replace(/^/gm, '    '), answer]
    .filter(Boolean)
    .join('\n');
}

export function formatReport(r: FuzzReport): string {
  const head = `API fuzz: seed ${r.seed}, ${r.runs} runs per operation, ${r.requests} requests in ${(r.ms / 1000).toFixed(1)} s, ${r.failures.length} failing operation(s)`;
  return [head, ...r.failures.map((f) => formatFailure(f, r.seed))].join('\n\n');
}
