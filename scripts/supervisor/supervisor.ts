/**
 * Runs a set of child processes and keeps them running: a child that dies unexpectedly is restarted
 * after a backoff (restart-policy.ts); one that keeps dying, or never becomes healthy, stops everything.
 *
 * Each child runs in its own process group (so a Ctrl-C in the terminal reaches only the launcher, which
 * sends each child one SIGTERM and lets it drain) with an IPC channel the `parent-watch` preload watches
 * (so a child stops when the launcher dies, even of SIGKILL). A child still running `stopTimeoutMs`
 * after its SIGTERM is killed with its whole group, and every group is killed once its leader has
 * exited, so nothing a child started outlives it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { GRACE_ENV, STOPPING_NOTICE } from './protocol';
import {
  DEFAULT_RESTART_POLICY,
  formatDuration,
  RestartPolicy,
  type RestartPolicyOptions,
} from './restart-policy';

export interface ChildSpec {
  /** Names the child in every message. */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Polled after each start until it resolves true; bound its own time (e.g. a fetch with a timeout). */
  healthy?: () => Promise<boolean>;
  /** How long a start may take to become healthy before the supervisor gives up (default 120 s). */
  startTimeoutMs?: number;
  /** How long the child may drain after SIGTERM before it is killed. */
  stopTimeoutMs: number;
}

export interface SupervisorOptions {
  children: readonly ChildSpec[];
  policy?: RestartPolicyOptions;
  log?: (line: string) => void;
  /** The children's stdout/stderr: the launcher's own (default), or discarded. */
  output?: 'inherit' | 'ignore';
  healthPollMs?: number;
}

export interface SupervisorOutcome {
  /** `stopped`: stop() was called; `gave-up`: a child kept dying or never became healthy. */
  reason: 'stopped' | 'gave-up';
  message: string;
  /** The child that made the supervisor give up. */
  child?: string;
}

interface Slot {
  spec: ChildSpec;
  policy: RestartPolicy;
  child?: ChildProcess;
  restartTimer?: NodeJS.Timeout;
}

const DEFAULT_START_TIMEOUT_MS = 120_000;

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

/** Signals a whole process group; a group with no process left is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

export class Supervisor {
  private readonly slots: Slot[];
  private readonly log: (line: string) => void;
  private started = false;
  private stopping: Promise<SupervisorOutcome> | undefined;
  private settle!: (outcome: SupervisorOutcome) => void;
  /** Resolves once every child has exited after stop() or after giving up. */
  readonly done: Promise<SupervisorOutcome>;

  constructor(private readonly options: SupervisorOptions) {
    const names = options.children.map((c) => c.name);
    if (new Set(names).size !== names.length)
      throw new Error(`child names must be unique: ${names.join(', ')}`);
    this.slots = options.children.map((spec) => ({
      spec,
      policy: new RestartPolicy(options.policy ?? DEFAULT_RESTART_POLICY),
    }));
    this.log = options.log ?? ((line) => console.error(line));
    this.done = new Promise((resolve) => (this.settle = resolve));
  }

  start(): void {
    if (this.started) throw new Error('the supervisor has already started');
    this.started = true;
    for (const slot of this.slots) this.launch(slot);
  }

  /** Stops every child (SIGTERM, then SIGKILL after its stopTimeoutMs); safe to call more than once. */
  stop(message = 'stop requested'): Promise<SupervisorOutcome> {
    return this.shutdown({ reason: 'stopped', message });
  }

  /** The pid of each running child, by name (for status lines and tests). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(
      this.slots.map((s) => [s.spec.name, s.child && alive(s.child) ? s.child.pid : undefined]),
    );
  }

  /**
   * Synchronous last resort for a launcher about to exit without stop() (process 'exit' handler): one
   * SIGTERM to each child not already told to stop; their parent-watch preload does the rest.
   */
  terminateAll(): void {
    if (this.stopping) return;
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      if (slot.child?.pid !== undefined && alive(slot.child)) this.sendStop(slot.child);
    }
  }

  private launch(slot: Slot): void {
    slot.restartTimer = undefined;
    if (this.stopping) return;
    const { spec } = slot;
    const child = spawn(spec.command, spec.args, {
      env: { ...(spec.env ?? process.env), [GRACE_ENV]: String(spec.stopTimeoutMs) },
      stdio: [
        this.options.output ?? 'inherit',
        this.options.output ?? 'inherit',
        this.options.output ?? 'inherit',
        'ipc',
      ],
      detached: true,
    });
    slot.child = child;
    // A spawn failure (no such file, no permission) is also reported as an exit, handled below.
    child.on('error', (e) => this.log(`[modelsmith] ${spec.name}: ${e.message}`));
    child.once('exit', (code, signal) => this.onExit(slot, child, code, signal));
    if (child.pid !== undefined) this.log(`[modelsmith] ${spec.name} started (pid ${child.pid})`);
    if (spec.healthy) void this.awaitHealthy(slot, child, spec.healthy);
  }

  private onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    // Whatever the child left in its group (it had no business leaving anything) goes with it.
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    if (this.stopping || slot.child !== child) return;
    const { spec } = slot;
    const how = describeExit(code, signal);
    const policy = this.options.policy ?? DEFAULT_RESTART_POLICY;
    const decision = slot.policy.recordDeath(Date.now());
    if (decision.action === 'give-up') {
      void this.giveUp(spec.name, `${spec.name} ${decision.reason} (last: ${how}); not restarting it`);
      return;
    }
    this.log(
      `[modelsmith] ${spec.name} (pid ${child.pid ?? '-'}) exited unexpectedly (${how}); ` +
        `restarting it in ${formatDuration(decision.delayMs)} (${decision.deathsInWindow} death(s) within ${formatDuration(policy.windowMs)}; ` +
        `the supervisor gives up at ${policy.maxDeaths})`,
    );
    slot.restartTimer = setTimeout(() => this.launch(slot), decision.delayMs);
  }

  private async awaitHealthy(
    slot: Slot,
    child: ChildProcess,
    healthy: () => Promise<boolean>,
  ): Promise<void> {
    const timeoutMs = slot.spec.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const pollMs = this.options.healthPollMs ?? 250;
    // Stops watching once this start is over: stopping, or the child exited (its restart watches anew).
    const current = () => !this.stopping && slot.child === child && alive(child);
    while (current()) {
      let ok = false;
      try {
        ok = await healthy();
      } catch {
        ok = false;
      }
      if (!current()) return;
      if (ok) {
        this.log(`[modelsmith] ${slot.spec.name} is healthy`);
        return;
      }
      if (Date.now() >= deadline) {
        await this.giveUp(
          slot.spec.name,
          `${slot.spec.name} (pid ${child.pid}) did not become healthy within ${formatDuration(timeoutMs)}`,
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  private giveUp(name: string, message: string): Promise<SupervisorOutcome> {
    if (!this.stopping) this.log(`[modelsmith] ${message}; stopping the platform`);
    return this.shutdown({ reason: 'gave-up', message, child: name });
  }

  private shutdown(outcome: SupervisorOutcome): Promise<SupervisorOutcome> {
    this.stopping ??= (async () => {
      for (const slot of this.slots) clearTimeout(slot.restartTimer);
      await Promise.all(this.slots.map((slot) => this.stopChild(slot)));
      this.settle(outcome);
      return outcome;
    })();
    return this.stopping;
  }

  private stopChild(slot: Slot): Promise<void> {
    const child = slot.child;
    if (!child || child.pid === undefined || !alive(child)) return Promise.resolve();
    const pid = child.pid;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.log(
          `[modelsmith] ${slot.spec.name} (pid ${pid}) still running ${formatDuration(slot.spec.stopTimeoutMs)} after SIGTERM; killing it`,
        );
        signalGroup(pid, 'SIGKILL');
      }, slot.spec.stopTimeoutMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.sendStop(child);
    });
  }

  /** The stopping notice, then one SIGTERM to the child itself (not its group: the child stops what it runs). */
  private sendStop(child: ChildProcess): void {
    if (child.connected) child.send(STOPPING_NOTICE, () => undefined);
    child.kill('SIGTERM');
  }
}
