import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { KERNELS_WASM_BASE64 } from './kernels-binary';

/**
 * Hand-written WebAssembly SIMD kernels (source: `kernels.wat` next to this file) that work directly
 * on the tfjs wasm backend's heap: the module imports the backend's WebAssembly.Memory, so pointers
 * are tensors' `memoryOffset`s and nothing is copied. There is no C toolchain here; the binary
 * (`kernels-binary.ts`, generated) is `kernels.wat` assembled with wabt (see `assemble.ts`).
 * Regenerate it whenever the .wat changes: `npm run build:wasm-kernels`. `kernels-binary.spec.ts`
 * fails when the committed binary is not the source's; the kernel specs run every export against
 * the cpu backend.
 */

/** Pointers are byte offsets into the backend's heap (a tensor's `memoryOffset`). See kernels.wat. */
export interface SimdKernels {
  /** Depthwise filter gradient (multiplier 1, no dilation) into acc (zeroed by the caller). */
  dwFilterGrad(
    x: number,
    dy: number,
    acc: number,
    n: number,
    h: number,
    w: number,
    c: number,
    ho: number,
    wo: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
  ): void;
  /** out = dy where lo <= x <= hi, else 0 (bitwise). */
  clipGrad(x: number, dy: number, out: number, n: number, lo: number, hi: number): void;
  /** acc (inner float64, zeroed) += column sums of x viewed as [rows, inner]. */
  sumRows(x: number, acc: number, rows: number, inner: number): void;
  /** s1 += Σdy, s2 += Σdy·(x - mean) per channel (float64 sums, zeroed by the caller). */
  bnSums(dy: number, x: number, mean: number, s1: number, s2: number, rows: number, c: number): void;
  /** 1x1 stride-1 filter gradient out[ci,co] += Σ_p x[p,ci]·dy[p,co] over P pixels, `block` at a time. */
  convFilterGrad1x1(
    x: number,
    dy: number,
    out: number,
    p: number,
    ci: number,
    co: number,
    block: number,
  ): void;
  /** Convolution filter gradient (NHWC, no dilation) into out [fh,fw,Ci,Co] (zeroed by the caller). */
  convFilterGrad(
    x: number,
    dy: number,
    out: number,
    n: number,
    h: number,
    w: number,
    ci: number,
    ho: number,
    wo: number,
    co: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
  ): void;
  /** Convolution input gradient (NHWC, no dilation) into dx [N,H,W,Ci]; w is the [fh,fw,Ci,Co] filter. */
  convInputGrad(
    dy: number,
    filter: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    ci: number,
    ho: number,
    wo: number,
    co: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
  ): void;
}

/** Byte offset of a tensor in the wasm heap. */
export function heapOffset(backend: BackendWasm, t: { dataId: object }): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('tensor is not in the wasm heap');
  return data.memoryOffset;
}

/**
 * Runs `body` with `count` zeroed float64 slots of scratch in the heap (8-aligned byte offset) and
 * returns them as a Float64Array copy; the scratch is freed even if `body` throws.
 */
export function withFloat64Scratch(
  backend: BackendWasm,
  count: number,
  body: (offset: number) => void,
): Float64Array {
  const scratch = backend.makeOutput([2 * count + 2], 'float32');
  try {
    const offset = Math.ceil(heapOffset(backend, scratch) / 8) * 8;
    const view = () =>
      new Float64Array((backend.typedArrayFromHeap(scratch) as Float32Array).buffer, offset, count);
    view().fill(0);
    body(offset);
    return view().slice();
  } finally {
    backend.disposeData(scratch.dataId);
  }
}

/** The WebAssembly API (global in Node; this project's TS libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const instances = new WeakMap<object, SimdKernels | null>();

let enabled = true;

/** Turns the SIMD kernels off (their JS fallbacks run instead) or back on; for tests. */
export function useSimdKernels(on: boolean): void {
  enabled = on;
}

/** The kernels bound to this backend's memory, or null where they cannot be instantiated. */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  if (!enabled) return null;
  const memory = (backend.wasm as unknown as { asm?: { memory?: object } }).asm?.memory;
  if (!memory) return null;
  let k = instances.get(memory);
  if (k === undefined) {
    try {
      const module = new wasmApi.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
      k = new wasmApi.Instance(module, { env: { memory } }).exports as SimdKernels;
    } catch {
      k = null;
    }
    instances.set(memory, k);
  }
  return k;
}
