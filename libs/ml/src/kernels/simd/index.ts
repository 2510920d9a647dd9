import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Hand-written WebAssembly SIMD kernels (source: `kernels.wat` next to this file) that work directly
 * on the tfjs wasm backend's heap: the module imports the backend's WebAssembly.Memory, so pointers
 * are tensors' `memoryOffset`s and nothing is copied. There is no C toolchain here; the binary below
 * is `kernels.wat` assembled with wabt's wat2wasm (npm `wabt` 1.0.39, SIMD enabled):
 *   require('wabt')().then((w) => w.parseWat('k.wat', src, { simd: true }).toBinary({}).buffer)
 * Regenerate it whenever the .wat changes (the spec runs every export against the cpu backend).
 */
const BINARY_BASE64 =
  'AGFzbQEAAAABLQRgD39/f39/f39/f39/f39/fwBgBn9/f399fQBgBH9/f38AYAd/f39/f39/AAIPAQNlbnYGbWVtb3J5AgABAwUEAAECAwcuBAxkd0ZpbHRlckdyYWQAAAhjbGlwR3JhZAABB3N1bVJvd3MAAgZiblN1bXMAAwqbCQSWAwEOfyAGQXxxIRcgBkECdCEYIAEhGUEAIQ8CQANAIA8gA04NAUEAIRACQANAIBAgB04NAUEAIRECQANAIBEgCE4NAUEAIRICQANAIBIgCU4NASAQIAtsIBJqIA1rIRQgFEEATiAUIARIcQRAIAAgDyAEbCAUaiAFIBhsbGohHEEAIRMCQANAIBMgCk4NASARIAxsIBNqIA5rIRUgFUEATiAVIAVIcQRAIBwgFSAYbGohGiACIBIgCmwgE2ogGGxqIRtBACEWAkADQCAWIBdODQEgGyAWQQJ0aiAbIBZBAnRq/QAEACAaIBZBAnRq/QAEACAZIBZBAnRq/QAEAP3mAf3kAf0LBAAgFkEEaiEWDAALCwJAA0AgFiAGTg0BIBsgFkECdGogGyAWQQJ0aioCACAaIBZBAnRqKgIAIBkgFkECdGoqAgCUkjgCACAWQQFqIRYMAAsLCyATQQFqIRMMAAsLCyASQQFqIRIMAAsLIBkgGGohGSARQQFqIREMAAsLIBBBAWohEAwACwsgD0EBaiEPDAALCwusAQQCfwN7AX8BfSADQXxxIQcgBP0TIQggBf0TIQkCQANAIAYgB04NASAGQQJ0IQsgACALav0ABAAhCiACIAtqIAEgC2r9AAQAIAogCP1GIAogCf1F/U79Tv0LBAAgBkEEaiEGDAALCwJAA0AgBiADTg0BIAZBAnQhCyAAIAtqKgIAIQwgAiALaiABIAtqKAIAQQAgDCAEYCAMIAVfcRs2AgAgBkEBaiEGDAALCwvUAQIFfwF7IANBfHEhBiAAIQcCQANAIAQgAk4NAUEAIQUCQANAIAUgBk4NASAHIAVBAnRq/QAEACEJIAEgBUEDdGohCCAIIAj9AAQAIAn9X/3wAf0LBAAgCCAI/QAEECAJIAn9DQgJCgsMDQ4PAAECAwQFBgf9X/3wAf0LBBAgBUEEaiEFDAALCwJAA0AgBSADTg0BIAEgBUEDdGohCCAIIAgrAwAgByAFQQJ0aioCALugOQMAIAVBAWohBQwACwsgByADQQJ0aiEHIARBAWohBAwACwsL/AIEBn8CewJ/AX0gBkF8cSEJIAAhCyABIQwCQANAIAcgBU4NAUEAIQgCQANAIAggCU4NASAIQQJ0IQogCyAKav0ABAAhDSANIAwgCmr9AAQAIAIgCmr9AAQA/eUB/eYBIQ4gAyAIQQN0aiEPIAQgCEEDdGohECAPIA/9AAQAIA39X/3wAf0LBAAgDyAP/QAEECANIA39DQgJCgsMDQ4PAAECAwQFBgf9X/3wAf0LBBAgECAQ/QAEACAO/V/98AH9CwQAIBAgEP0ABBAgDiAO/Q0ICQoLDA0ODwABAgMEBQYH/V/98AH9CwQQIAhBBGohCAwACwsCQANAIAggBk4NASAIQQJ0IQogCyAKaioCACERIAMgCEEDdGohDyAEIAhBA3RqIRAgDyAPKwMAIBG7oDkDACAQIBArAwAgESAMIApqKgIAIAIgCmoqAgCTlLugOQMAIAhBAWohCAwACwsgCyAGQQJ0aiELIAwgBkECdGohDCAHQQFqIQcMAAsLCw==';

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
      const module = new wasmApi.Module(Buffer.from(BINARY_BASE64, 'base64'));
      k = new wasmApi.Instance(module, { env: { memory } }).exports as SimdKernels;
    } catch {
      k = null;
    }
    instances.set(memory, k);
  }
  return k;
}
