/**
 * The launcher's supervisor against real child processes (test/supervisor/fixtures/children.js): a
 * child that crashes is restarted, one that keeps crashing or never becomes healthy stops everything
 * with a message naming it, one that ignores SIGTERM is killed with its process group, and the children
 * of a launcher that dies (SIGKILL, SIGTERM, an exception) stop too, draining once. Every test ends
 * with no process of its own left running.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor, type ChildSpec } from '../../scripts/supervisor/supervisor';
import type { RestartPolicyOptions } from '../../scripts/supervisor/restart-policy';

const children = join(__dirname, 'fixtures', 'children.js');
const launcher = join(__dirname, 'fixtures', 'launcher.ts');
const fastPolicy: RestartPolicyOptions = {
  initialDelayMs: 50,
  maxDelayMs: 200,
  maxDeaths: 3,
  windowMs: 60_000,
};

/** Running, as opposed to gone or a zombie nobody reaped yet. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let dir: string;
const spawned = new Set<number>();

/** The pids of every start of `name` so far (each start leaves <name>.<pid>.up). */
function startsOf(name: string): number[] {
  const pids = readdirSync(dir)
    .map((f) => new RegExp(`^${name}\\.(\\d+)\\.up$`).exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  for (const pid of pids) spawned.add(pid);
  return pids;
}

function child(name: string, behaviour: string, extra: Partial<ChildSpec> = {}): ChildSpec {
  return {
    name,
    command: process.execPath,
    args: [children, behaviour, dir, name],
    stopTimeoutMs: 5_000,
    ...extra,
  };
}

function supervise(specs: ChildSpec[]): { supervisor: Supervisor; lines: string[] } {
  const lines: string[] = [];
  const supervisor = new Supervisor({
    children: specs,
    policy: fastPolicy,
    log: (l) => lines.push(l),
    output: 'ignore',
    healthPollMs: 50,
  });
  return { supervisor, lines };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
  spawned.clear();
});

afterEach(async () => {
  // No leftovers, whatever the test did (and if one is left, the next tests do not inherit it).
  const left = [...spawned].filter(running);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe('Supervisor', () => {
  it('restarts a child that exits unexpectedly, logging its name and exit code, and leaves the others alone', async () => {
    const { supervisor, lines } = supervise([child('flaky', 'crash-once'), child('calm', 'steady')]);
    supervisor.start();
    const [calm] = await until('calm to start', () => startsOf('calm').length === 1 && startsOf('calm'));
    const starts = await until(
      'flaky to start twice',
      () => startsOf('flaky').length === 2 && startsOf('flaky'),
    );
    await until(
      'the second flaky start to be the running one',
      () => supervisor.pids().flaky === Math.max(...starts) || undefined,
    );
    expect(
      lines.some((l) =>
        /flaky \(pid \d+\) exited unexpectedly \(exit code 3\); restarting it in 50 ms/.test(l),
      ),
    ).toBe(true);
    expect(supervisor.pids().calm).toBe(calm);
    expect(startsOf('calm')).toEqual([calm]);

    const outcome = await supervisor.stop();
    expect(outcome.reason).toBe('stopped');
    expect(supervisor.pids()).toEqual({ flaky: undefined, calm: undefined });
  });

  it('gives up on a child that keeps dying, with a message naming it, and stops everything', async () => {
    const { supervisor, lines } = supervise([child('doomed', 'always-crash'), child('calm', 'steady')]);
    supervisor.start();
    const outcome = await supervisor.done;
    expect(outcome.reason).toBe('gave-up');
    expect(outcome.child).toBe('doomed');
    expect(outcome.message).toMatch(/^doomed died 3 times within 60 s \(last: exit code 1\)/);
    expect(startsOf('doomed')).toHaveLength(3);
    // The backoff doubled between the restarts.
    expect(
      lines
        .filter((l) => l.includes('doomed') && l.includes('restarting it in'))
        .map((l) => /in (\d+ ms)/.exec(l)?.[1]),
    ).toEqual(['50 ms', '100 ms']);
    expect(lines.some((l) => l.includes('doomed died 3 times') && l.endsWith('stopping the platform'))).toBe(
      true,
    );
    expect(startsOf('calm')).toHaveLength(1);
    expect(supervisor.pids().calm).toBeUndefined();
  });

  it('gives up on a child that never becomes healthy', async () => {
    const { supervisor } = supervise([
      child('mute', 'steady', { healthy: () => Promise.resolve(false), startTimeoutMs: 500 }),
    ]);
    supervisor.start();
    const outcome = await supervisor.done;
    expect(outcome).toMatchObject({ reason: 'gave-up', child: 'mute' });
    expect(outcome.message).toMatch(/^mute \(pid \d+\) did not become healthy within 500 ms$/);
    expect(startsOf('mute')).toHaveLength(1);
  });

  it('kills a child that ignores SIGTERM after its stop timeout, with what it left in its process group', async () => {
    const { supervisor, lines } = supervise([child('stubborn', 'hang', { stopTimeoutMs: 700 })]);
    supervisor.start();
    await until('stubborn to start', () => startsOf('stubborn').length === 1);
    const grandchild = Number(
      await until(
        'the grandchild',
        () =>
          existsSync(join(dir, 'stubborn.grandchild')) &&
          readFileSync(join(dir, 'stubborn.grandchild'), 'utf8'),
      ),
    );
    spawned.add(grandchild);
    expect(running(grandchild)).toBe(true);

    const started = Date.now();
    await supervisor.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    expect(readFileSync(join(dir, 'stubborn.sigterm'), 'utf8')).toBe('x');
    expect(
      lines.some((l) => /stubborn \(pid \d+\) still running 700 ms after SIGTERM; killing it/.test(l)),
    ).toBe(true);
    await until('the grandchild to be gone', () => !running(grandchild), 5_000);
  });
});

describe('children of a launcher that goes away', () => {
  async function startLauncher(mode: 'none' | 'throw') {
    const proc = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), launcher, dir, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
    if (proc.pid !== undefined) spawned.add(proc.pid);
    const pids = await until(
      'the launcher to print its children',
      () => out.includes('\n') && (JSON.parse(out.split('\n')[0]) as Record<string, number>),
    );
    for (const pid of Object.values(pids)) spawned.add(pid);
    // Both children are up (and their parent-watch preload loaded) once they wrote their start files.
    await until('both children to start', () => startsOf('a').length === 1 && startsOf('b').length === 1);
    return { proc, pids: Object.values(pids), exited, stderr: () => err };
  }

  const sigterms = (name: string) => readFileSync(join(dir, `${name}.sigterm`), 'utf8').length;

  it('stop, draining once, when the launcher is SIGKILLed', async () => {
    const { proc, pids, exited } = await startLauncher('none');
    proc.kill('SIGKILL');
    await exited;
    await until('the children to exit', () => pids.every((pid) => !running(pid)));
    expect(['a', 'b'].map(sigterms)).toEqual([1, 1]);
    expect(['a', 'b'].map((n) => existsSync(join(dir, `${n}.drained`)))).toEqual([true, true]);
  });

  it('drain once when the launcher is SIGKILLed while they are already draining after its SIGTERM', async () => {
    const { proc, pids, exited } = await startLauncher('none');
    proc.kill('SIGTERM');
    await until(
      'the children to get their SIGTERM',
      () => existsSync(join(dir, 'a.sigterm')) && existsSync(join(dir, 'b.sigterm')),
    );
    proc.kill('SIGKILL');
    await exited;
    await until('the children to exit', () => pids.every((pid) => !running(pid)));
    // A second SIGTERM from the preload would have been counted here (and makes the worker exit at once).
    expect(['a', 'b'].map(sigterms)).toEqual([1, 1]);
    expect(['a', 'b'].map((n) => existsSync(join(dir, `${n}.drained`)))).toEqual([true, true]);
  });

  it('stop gracefully, and the launcher exits 1, when the launcher throws', async () => {
    const { pids, exited, stderr } = await startLauncher('throw');
    expect(await exited).toBe(1);
    expect(stderr()).toContain('a bug in the launcher');
    // The launcher waited for its children's drain before exiting.
    expect(pids.filter(running)).toEqual([]);
    expect(['a', 'b'].map(sigterms)).toEqual([1, 1]);
    expect(['a', 'b'].map((n) => existsSync(join(dir, `${n}.drained`)))).toEqual([true, true]);
  });
});
