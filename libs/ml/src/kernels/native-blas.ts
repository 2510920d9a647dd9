import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { applyBlasCore, type BlasCoreChoice, type BlasCorePreference } from './blas-core';

/**
 * The optional native addon (libs/ml/native: N-API + OpenBLAS, built by `scripts/build-native.sh`
 * where a C compiler and libopenblas-dev exist). It multiplies matrices that live in the tfjs wasm
 * backend's heap in place, with OpenBLAS's AVX-512/AVX2 kernels: 4-6x the rate of XNNPACK's wasm
 * SIMD128 on MobileNetV2's 1x1 convolutions here (no fused multiply-add in wasm). Everything runs
 * without it; the kernels then take their wasm paths.
 */
export interface NativeBlas {
  /** Row-major C[m,n] = alpha·op(A)·op(B) + beta·C; a, b, c are byte offsets into heap. */
  sgemm(
    heap: ArrayBuffer,
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
  ): void;
  /**
   * NHWC convolution by im2col + sgemm. mode 0: y = act(conv(x, w) + bias); 1: w = filter gradient
   * (y holds dy); 2: x = input gradient (y holds dy). bias -1: none; act 0 linear, 1 relu, 2 relu6.
   * shape: [n, h, w, ci, ho, wo, co, fh, fw, sh, sw, dh, dw, padTop, padLeft].
   */
  conv(
    heap: ArrayBuffer,
    mode: 0 | 1 | 2,
    x: number,
    w: number,
    y: number,
    bias: number,
    act: 0 | 1 | 2,
    shape: number[],
  ): void;
  /**
   * Training-mode batch normalization over rows x c (NHWC, every axis but the last reduced); offsets
   * are byte offsets. mode 0: [x, gamma, beta, y, mean, variance] (biased variance);
   * mode 1: [x, gamma, mean, variance, dy, dmean, dvariance, dx, dgamma, dbeta].
   */
  batchNorm(
    heap: ArrayBuffer,
    mode: 0 | 1,
    offsets: number[],
    rows: number,
    c: number,
    epsilon: number,
  ): void;
  /**
   * Max pooling over NHWC float32 tensors (byte offsets): mode 0 MaxPool, y (in `yOrDy`) = the
   * maximum of each window; mode 1 MaxPoolGrad, dx = dy (in `yOrDy`) routed to the first maximum of
   * each window. shape: [n, h, w, c, ho, wo, fh, fw, sh, sw, padTop, padLeft].
   */
  pool(heap: ArrayBuffer, mode: 0 | 1, x: number, yOrDy: number, dx: number, shape: number[]): void;
  /**
   * One Adam step in float32 (train/optimizers.ts's arithmetic, in its order): offsets (bytes) of
   * [var, m, v, g, outVar, outM, outV], n elements, constants [b1, 1-b1, b2, 1-b2, 1-b2^t, epsilon,
   * stepSize, l2 (coupled decay), decay (decoupled: lr * weightDecay)].
   */
  adam(heap: ArrayBuffer, offsets: number[], n: number, constants: number[]): void;
  setThreads(n: number): void;
  /** OpenBLAS's build and the core type it chose, e.g. "OpenBLAS 0.3.21 … ; core SkylakeX". */
  config(): string;
}

const ADDON = path.join('libs', 'ml', 'native', 'build', 'Release', 'heap_blas.node');

let loaded: NativeBlas | null | undefined;
let enabled = true;

/** Finds the built addon from this file's folder upwards (sources under libs/, or the dist/ build). */
function findAddon(): string | undefined {
  for (let dir = __dirname, i = 0; i < 8; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, ADDON);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The addon, loaded once (1 OpenBLAS thread: parallelism is the caller's), or null when absent. */
export function loadNativeBlas(): NativeBlas | null {
  if (loaded === undefined) {
    const file = findAddon();
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = file ? (require(file) as NativeBlas) : null;
      loaded?.setThreads(1);
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/**
 * Chooses OpenBLAS's kernels (see blas-core.ts) before the addon first loads in this process; null
 * once it has loaded (the library reads its override only then) or when there is no addon.
 */
export function chooseBlasCore(pref: BlasCorePreference): BlasCoreChoice | null {
  if (loaded !== undefined) return null;
  const file = findAddon();
  return file ? applyBlasCore(pref, file) : null;
}

/** Turns the native kernels off (the wasm paths run instead) or back on: config, tests, A/B runs. */
export function useNativeBlas(on: boolean): void {
  enabled = on;
}

/** The addon when it is loaded and enabled, for the wasm backend (whose heap it works on). */
export function nativeBlas(backend: BackendWasm): NativeBlas | null {
  if (!enabled || !backend.wasm) return null;
  return loadNativeBlas();
}

/** The wasm heap as the addon takes it: re-read per call, since the buffer moves when it grows. */
export function wasmHeap(backend: BackendWasm): ArrayBuffer {
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer as ArrayBuffer;
}
