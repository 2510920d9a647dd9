import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../kernels';
import type { BlasCorePreference } from '../kernels/blas-core';
import { chooseBlasCore, loadNativeBlas, useNativeBlas } from '../kernels/native-blas';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface InitBackendOptions {
  /** Backend to use; 'auto' (default) takes the first that loads in the order tensorflow-gpu, tensorflow, wasm, cpu. */
  prefer?: BackendName | 'auto';
  /** Threads for the wasm backend (only used by its multi-threaded build; see docs/ml-engine.md). */
  wasmThreads?: number;
  /**
   * With wasm: whether the native BLAS addon may run (default true; it still needs to be built). False
   * keeps every kernel on wasm, for this thread (each worker thread initialises its own backend).
   */
  nativeBlas?: boolean;
  /**
   * With the native addon: OpenBLAS's kernels (see kernels/blas-core.ts). 'auto' replaces a generic
   * pick on a CPU OpenBLAS does not recognize; 'openblas' (default) leaves its choice; a core name
   * forces it. Takes effect only before the addon first loads in the process.
   */
  blasCore?: BlasCorePreference;
  log?: (msg: string) => void;
}

export interface BackendInfo {
  name: BackendName;
  /** Kernels this library registered for the chosen backend (empty unless wasm). */
  kernelsRegistered: string[];
  /** With wasm: the native BLAS addon's OpenBLAS build and core (libs/ml/native); null if absent or off. */
  nativeBlas: string | null;
}

const AUTO_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
/** tfjs registry name of each backend. */
const TF_NAME: Record<BackendName, string> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

let current: BackendInfo | undefined;
/** Serialises concurrent calls: each waits for the previous one before deciding. */
let queue: Promise<unknown> = Promise.resolve();

/** Loads a native tfjs-node package if installed; they are optional dependencies. */
function requireOptional(pkg: string): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(pkg);
    return true;
  } catch {
    return false;
  }
}

let wasmLoaded = false;
function loadWasm(wasmThreads: number | undefined): void {
  if (wasmLoaded) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  // Resolve the .wasm binaries from the package itself, so that bundlers, jest and tsx all find them.
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(dist + path.sep);
  if (wasmThreads !== undefined) wasm.setThreadsCount(wasmThreads);
  wasmLoaded = true;
}

async function tryBackend(name: BackendName, opts: InitBackendOptions): Promise<boolean> {
  switch (name) {
    case 'tensorflow-gpu':
      if (!requireOptional('@tensorflow/tfjs-node-gpu')) return false;
      break;
    case 'tensorflow':
      if (!requireOptional('@tensorflow/tfjs-node')) return false;
      break;
    case 'wasm':
      try {
        loadWasm(opts.wasmThreads);
      } catch {
        return false;
      }
      break;
    case 'cpu':
      break;
  }
  try {
    return await tf.setBackend(TF_NAME[name]);
  } catch {
    return false;
  }
}

/** Applies `opts.nativeBlas` and returns the addon's build when it will run, else null. */
function nativeBlasState(opts: InitBackendOptions): string | null {
  useNativeBlas(opts.nativeBlas !== false);
  if (opts.nativeBlas !== false && opts.blasCore) {
    const choice = chooseBlasCore(opts.blasCore);
    if (choice) opts.log?.(`native BLAS kernels: ${choice.core ?? 'as OpenBLAS picks'} (${choice.reason})`);
  }
  return opts.nativeBlas === false ? null : (loadNativeBlas()?.config() ?? null);
}

async function choose(opts: InitBackendOptions): Promise<BackendInfo> {
  const log = opts.log ?? (() => undefined);
  const prefer = opts.prefer ?? 'auto';
  const order = prefer === 'auto' ? AUTO_ORDER : [prefer, ...AUTO_ORDER.filter((b) => b !== prefer)];
  for (const name of order) {
    if (!(await tryBackend(name, opts))) {
      log(`ml backend: ${name} unavailable`);
      continue;
    }
    await tf.ready();
    const kernelsRegistered = name === 'wasm' ? registerWasmTrainingKernels() : [];
    const nativeBlas = name === 'wasm' ? nativeBlasState(opts) : null;
    const info: BackendInfo = { name, kernelsRegistered, nativeBlas };
    const blasNote =
      name !== 'wasm'
        ? ''
        : nativeBlas
          ? `; native BLAS: ${nativeBlas}`
          : `; native BLAS ${opts.nativeBlas === false ? 'off (ML_NATIVE_BLAS)' : 'absent'}`;
    const extra = kernelsRegistered.length
      ? ` (+${kernelsRegistered.length} training kernels${blasNote})`
      : '';
    log(
      `ml backend: using ${name}${prefer !== 'auto' && prefer !== name ? ` (preferred ${prefer} unavailable)` : ''}${extra}`,
    );
    return info;
  }
  throw new Error('no TensorFlow.js backend could be initialised');
}

/**
 * Chooses and initialises the TensorFlow.js backend: tfjs-node-gpu -> tfjs-node -> wasm -> cpu, the
 * first that loads, unless `prefer` names one (which is then tried first). Idempotent: later calls
 * with the same preference return the same result; a different explicit preference switches backend.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const run = queue.then(async () => {
    const prefer = opts.prefer ?? 'auto';
    const active = current && tf.getBackend() === TF_NAME[current.name];
    if (current && active && (prefer === 'auto' || prefer === current.name)) {
      if (current.name === 'wasm' && opts.nativeBlas !== undefined) {
        current = { ...current, nativeBlas: nativeBlasState(opts) };
      }
      return current;
    }
    current = await choose(opts);
    return current;
  });
  queue = run.catch(() => undefined);
  return run;
}

/** The backend chosen by the last successful initBackend, or undefined before it. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}
