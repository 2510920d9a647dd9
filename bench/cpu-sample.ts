import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds of one process's threads by thread id, and of the machine as a whole (Linux /proc). */
export interface CpuSample {
  at: number;
  threads: Map<number, number>;
  self: Map<number, number>;
  machine: MachineSample;
}

/** The whole machine's CPU seconds (all vCPUs): idle (with I/O wait), and stolen by the hypervisor. */
export interface MachineSample {
  idle: number;
  steal: number;
}

/** Kernel clock ticks per second as /proc reports them (USER_HZ is 100 on every Linux build in use). */
const TICKS = 100;

function threadSeconds(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / TICKS);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** The machine line of /proc/stat (user nice system idle iowait irq softirq steal ...). */
function machineSeconds(): MachineSample {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: (fields[3] + fields[4]) / TICKS, steal: (fields[7] ?? 0) / TICKS };
}

/** Reads the threads of `pid` and of this process, and the machine's idle time; null off Linux. */
export function sampleCpu(pid: number): CpuSample | null {
  if (process.platform !== 'linux') return null;
  return {
    at: performance.now(),
    threads: threadSeconds(pid),
    self: threadSeconds(process.pid),
    machine: machineSeconds(),
  };
}

/** CPU seconds over `seconds` of wall time as cores, rounded to 0.01 (/proc counts in 10 ms ticks). */
const cores = (cpuSeconds: number, seconds: number) => Math.round((cpuSeconds / seconds) * 100) / 100;

/**
 * Cores each side used between two samples: the serving process's main thread (requests), its
 * busiest other thread (the inference thread, under prediction load), the rest of its threads (GC
 * helpers, libuv pool), this process (the load generator, when it does nothing else), how much of
 * the machine sat idle, and how much the hypervisor took from this VM's vCPUs (steal: time a vCPU
 * had work but its host ran something else). Rounded to 0.01 core; /proc counts in 10 ms ticks.
 */
export function coresBetween(pid: number, a: CpuSample, b: CpuSample) {
  const seconds = (b.at - a.at) / 1000;
  const delta = (x: Map<number, number>, y: Map<number, number>) =>
    [...y].map(([tid, s]) => [tid, s - (x.get(tid) ?? 0)] as const);
  const serving = delta(a.threads, b.threads);
  const main = serving.find(([tid]) => tid === pid)?.[1] ?? 0;
  const others = serving.filter(([tid]) => tid !== pid).sort((x, y) => y[1] - x[1]);
  const round = (v: number) => cores(v, seconds);
  return {
    servingRequestThread: round(main),
    servingInferenceThread: round(others[0]?.[1] ?? 0),
    servingOtherThreads: round(others.slice(1).reduce((s, [, v]) => s + v, 0)),
    loadGenerator: round(delta(a.self, b.self).reduce((s, [, v]) => s + v, 0)),
    machineIdle: round(b.machine.idle - a.machine.idle),
    machineSteal: round(b.machine.steal - a.machine.steal),
  };
}

/** What `fn` gives, and the cores the hypervisor took from this VM meanwhile (null off Linux). */
export async function withSteal<T>(fn: () => Promise<T>): Promise<{ result: T; stealCores: number | null }> {
  if (process.platform !== 'linux') return { result: await fn(), stealCores: null };
  const [at, a] = [performance.now(), machineSeconds()];
  const result = await fn();
  return { result, stealCores: cores(machineSeconds().steal - a.steal, (performance.now() - at) / 1000) };
}
