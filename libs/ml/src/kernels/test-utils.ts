import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';

/**
 * Whether OpenBLAS's header is found, so scripts/build-native.sh has built the native addon (CI
 * installs libopenblas-dev): specs of the native paths expect it loaded exactly then.
 */
export const openBlasPresent = spawnSync('cc', ['-E', '-'], { input: '#include <cblas.h>\n' }).status === 0;

/** Why the specs of the native paths skip where the addon cannot be built. */
export const NO_OPENBLAS = 'needs the native BLAS addon: no OpenBLAS here (apt-get install libopenblas-dev)';

/** mulberry32: small, fast, fixed-seed PRNG for reproducible property tests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

export function randValues(rand: () => number, shape: number[]): Float32Array {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) out[i] = rand() * 2 - 1;
  return out;
}

/**
 * Switches to an already-initialised backend. tf.setBackend completes synchronously then; the check
 * makes sure of it.
 */
export function useBackend(name: 'wasm' | 'cpu'): void {
  void tf.setBackend(name);
  if (tf.getBackend() !== name) throw new Error(`backend ${name} is not initialised`);
}

/** Runs one kernel on the named backend with fresh input tensors; returns its output values. */
export function runKernelOn(
  backend: 'wasm' | 'cpu',
  kernelName: string,
  inputs: Record<string, { shape: number[]; values: Float32Array }>,
  attrs: Record<string, unknown>,
): { shape: number[]; values: Float32Array } {
  const previous = tf.getBackend();
  useBackend(backend);
  try {
    return tf.tidy(() => {
      const ins = Object.fromEntries(
        Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.values, v.shape)]),
      );
      const out = tf.engine().runKernel<tf.Tensor>(kernelName, ins, attrs as tf.NamedAttrMap);
      return { shape: out.shape, values: out.dataSync<'float32'>() };
    });
  } finally {
    useBackend(previous as 'wasm' | 'cpu');
  }
}

/** max |a-b| / max(|b|, 1e-3 * size) — a relative error robust to near-zero references. */
export function relError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-6);
}
