import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * Which OpenBLAS kernels the native addon runs. Debian's OpenBLAS is built with DYNAMIC_ARCH: at load
 * time it reads the CPU's identity and picks a kernel set ("core"). A CPU it does not recognize (a new
 * or virtualised one) gets the generic Prescott kernels, SSE3 only: 2-3x slower sgemm on a machine with
 * AVX-512. OpenBLAS takes an override from the environment variable OPENBLAS_CORETYPE, read once when
 * the library loads; this module sets it, before the addon loads, from the setting `ML_BLAS_CORE`:
 *
 * - `auto`: ask OpenBLAS what it would pick (a child process loads the addon and reports); if the CPU's
 *   instruction sets (/proc/cpuinfo flags) allow a stronger kernel family than that, use the safe
 *   representative of the family: SkylakeX for AVX-512 (F, BW, VL, DQ), Haswell for AVX2 + FMA,
 *   Sandybridge for AVX. Those kernels need only the flags checked; the native property specs
 *   (native-conv, native-batch-norm, training-gradients, serving) pass with each of them.
 * - `openblas`: OpenBLAS's own choice, never overridden.
 * - a core name (e.g. `SkylakeX`, `Haswell`, `Prescott`): that core, as OPENBLAS_CORETYPE takes it.
 */
export type BlasCorePreference = string;

/** Kernel families by strength; a CPU of a family runs the kernels of its own and every weaker one. */
const FAMILY: Record<string, number> = {
  // AVX-512
  skylakex: 3,
  cooperlake: 3,
  sapphirerapids: 3,
  // AVX2 + FMA
  haswell: 2,
  zen: 2,
  excavator: 2,
  // AVX
  sandybridge: 1,
  bulldozer: 1,
  piledriver: 1,
  steamroller: 1,
};
const SAFE_CORE = ['Prescott', 'Sandybridge', 'Haswell', 'SkylakeX'] as const;

/** The strongest kernel family these CPU flags run (0: SSE only, 1: AVX, 2: AVX2+FMA, 3: AVX-512). */
export function familyOfFlags(flags: ReadonlySet<string>): number {
  const has = (...f: string[]) => f.every((x) => flags.has(x));
  if (has('avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx2', 'fma')) return 3;
  if (has('avx2', 'fma')) return 2;
  if (has('avx')) return 1;
  return 0;
}

/** The core `auto` sets: null keeps OpenBLAS's pick, else the family's safe core the CPU allows. */
export function autoBlasCore(reportedCore: string, flags: ReadonlySet<string>): string | null {
  const reported = FAMILY[reportedCore.trim().toLowerCase()] ?? 0;
  const possible = familyOfFlags(flags);
  return possible > reported ? SAFE_CORE[possible] : null;
}

/** The CPU's flags from /proc/cpuinfo (empty where there is none: then `auto` changes nothing). */
export function cpuFlags(cpuinfo = '/proc/cpuinfo'): Set<string> {
  try {
    const line = fs
      .readFileSync(cpuinfo, 'utf8')
      .split('\n')
      .find((l) => /^flags\s*:/.test(l));
    return new Set(
      line
        ? line
            .replace(/^flags\s*:/, '')
            .trim()
            .split(/\s+/)
        : [],
    );
  } catch {
    return new Set();
  }
}

/**
 * The core OpenBLAS picks when `addon` loads in a fresh process (which inherits this one's
 * environment, so an OPENBLAS_CORETYPE set by the operator is what it reports), or null if it fails.
 */
export function probeOpenBlasCore(addon: string): string | null {
  const r = spawnSync(
    process.execPath,
    ['-e', `process.stdout.write(require(${JSON.stringify(addon)}).config())`],
    { encoding: 'utf8', timeout: 30_000 },
  );
  const m = r.status === 0 ? /; core (\S+)/.exec(r.stdout) : null;
  return m ? m[1] : null;
}

export interface BlasCoreChoice {
  /** The core set through OPENBLAS_CORETYPE, or null when OpenBLAS chooses. */
  core: string | null;
  /** Why, in a few words (logged by initBackend). */
  reason: string;
}

/**
 * Resolves the preference to a core and, when there is one, sets OPENBLAS_CORETYPE for this process
 * (the library reads it when it loads, so call this before the addon is first required).
 */
export function applyBlasCore(pref: BlasCorePreference, addon: string | undefined): BlasCoreChoice {
  if (!addon || pref === 'openblas') return { core: null, reason: "OpenBLAS's own choice" };
  let choice: BlasCoreChoice;
  if (pref === 'auto') {
    const reported = probeOpenBlasCore(addon);
    const core = reported === null ? null : autoBlasCore(reported, cpuFlags());
    choice = core
      ? { core, reason: `OpenBLAS picks ${reported} here; the CPU runs ${core} kernels (ML_BLAS_CORE=auto)` }
      : { core: null, reason: `OpenBLAS's own choice${reported ? ` (${reported})` : ''}` };
  } else {
    choice = { core: pref, reason: `ML_BLAS_CORE=${pref}` };
  }
  // OpenBLAS reads its override from the process environment when the library loads: this writes it
  // (the setting itself came through @modelsmith/config as ML_BLAS_CORE).
  // eslint-disable-next-line no-restricted-properties
  if (choice.core) process.env.OPENBLAS_CORETYPE = choice.core;
  return choice;
}
