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
  'AGFzbQEAAAABSwZgD39/f39/f39/f39/f39/fwBgBn9/f399fQBgBH9/f38AYAd/f39/f39/AGAIf39/f39/f38AYBB/f39/f39/f39/f39/f39/AAIPAQNlbnYGbWVtb3J5AgABAwkIAAECAwQDBQUHYwcMZHdGaWx0ZXJHcmFkAAAIY2xpcEdyYWQAAQdzdW1Sb3dzAAIGYm5TdW1zAAMRY29udkZpbHRlckdyYWQxeDEABQ5jb252RmlsdGVyR3JhZAAGDWNvbnZJbnB1dEdyYWQABwrtGwiWAwEOfyAGQXxxIRcgBkECdCEYIAEhGUEAIQ8CQANAIA8gA04NAUEAIRACQANAIBAgB04NAUEAIRECQANAIBEgCE4NAUEAIRICQANAIBIgCU4NASAQIAtsIBJqIA1rIRQgFEEATiAUIARIcQRAIAAgDyAEbCAUaiAFIBhsbGohHEEAIRMCQANAIBMgCk4NASARIAxsIBNqIA5rIRUgFUEATiAVIAVIcQRAIBwgFSAYbGohGiACIBIgCmwgE2ogGGxqIRtBACEWAkADQCAWIBdODQEgGyAWQQJ0aiAbIBZBAnRq/QAEACAaIBZBAnRq/QAEACAZIBZBAnRq/QAEAP3mAf3kAf0LBAAgFkEEaiEWDAALCwJAA0AgFiAGTg0BIBsgFkECdGogGyAWQQJ0aioCACAaIBZBAnRqKgIAIBkgFkECdGoqAgCUkjgCACAWQQFqIRYMAAsLCyATQQFqIRMMAAsLCyASQQFqIRIMAAsLIBkgGGohGSARQQFqIREMAAsLIBBBAWohEAwACwsgD0EBaiEPDAALCwusAQQCfwN7AX8BfSADQXxxIQcgBP0TIQggBf0TIQkCQANAIAYgB04NASAGQQJ0IQsgACALav0ABAAhCiACIAtqIAEgC2r9AAQAIAogCP1GIAogCf1F/U79Tv0LBAAgBkEEaiEGDAALCwJAA0AgBiADTg0BIAZBAnQhCyAAIAtqKgIAIQwgAiALaiABIAtqKAIAQQAgDCAEYCAMIAVfcRs2AgAgBkEBaiEGDAALCwvUAQIFfwF7IANBfHEhBiAAIQcCQANAIAQgAk4NAUEAIQUCQANAIAUgBk4NASAHIAVBAnRq/QAEACEJIAEgBUEDdGohCCAIIAj9AAQAIAn9X/3wAf0LBAAgCCAI/QAEECAJIAn9DQgJCgsMDQ4PAAECAwQFBgf9X/3wAf0LBBAgBUEEaiEFDAALCwJAA0AgBSADTg0BIAEgBUEDdGohCCAIIAgrAwAgByAFQQJ0aioCALugOQMAIAVBAWohBQwACwsgByADQQJ0aiEHIARBAWohBAwACwsL/AIEBn8CewJ/AX0gBkF8cSEJIAAhCyABIQwCQANAIAcgBU4NAUEAIQgCQANAIAggCU4NASAIQQJ0IQogCyAKav0ABAAhDSANIAwgCmr9AAQAIAIgCmr9AAQA/eUB/eYBIQ4gAyAIQQN0aiEPIAQgCEEDdGohECAPIA/9AAQAIA39X/3wAf0LBAAgDyAP/QAEECANIA39DQgJCgsMDQ4PAAECAwQFBgf9X/3wAf0LBBAgECAQ/QAEACAO/V/98AH9CwQAIBAgEP0ABBAgDiAO/Q0ICQoLDA0ODwABAgMEBQYH/V/98AH9CwQQIAhBBGohCAwACwsCQANAIAggBk4NASAIQQJ0IQogCyAKaioCACERIAMgCEEDdGohDyAEIAhBA3RqIRAgDyAPKwMAIBG7oDkDACAQIBArAwAgESAMIApqKgIAIAIgCmoqAgCTlLugOQMAIAhBAWohCAwACwsgCyAGQQJ0aiELIAwgBkECdGohDCAHQQFqIQcMAAsLC80JAwd/C3sBfSAHQQJ0IQ4CQANAIAhBBGogBkoNAUEAIQkCQANAIAlBCGogB0oNASACIAggB2wgCWpBAnRqIQ0gDf0ABAAhEiAN/QAEECETIA0gDmr9AAQAIRQgDSAOav0ABBAhFSANIA5BAXRq/QAEACEWIA0gDkEBdGr9AAQQIRcgDSAOQQNsav0ABAAhGCANIA5BA2xq/QAEECEZIAAgCEECdGohCyABIAlBAnRqIQwgAyEKA0AgDP0ABAAhECAM/QAEECERIAv9CQIAIQ8gEiAPIBD95gH95AEhEiATIA8gEf3mAf3kASETIAv9CQIEIQ8gFCAPIBD95gH95AEhFCAVIA8gEf3mAf3kASEVIAv9CQIIIQ8gFiAPIBD95gH95AEhFiAXIA8gEf3mAf3kASEXIAv9CQIMIQ8gGCAPIBD95gH95AEhGCAZIA8gEf3mAf3kASEZIAsgBGohCyAMIAVqIQwgCkEBayIKDQALIA0gEv0LBAAgDSAT/QsEECANIA5qIBT9CwQAIA0gDmogFf0LBBAgDSAOQQF0aiAW/QsEACANIA5BAXRqIBf9CwQQIA0gDkEDbGogGP0LBAAgDSAOQQNsaiAZ/QsEECAJQQhqIQkMAAsLIAlBBGogB0wEQCACIAggB2wgCWpBAnRqIQ0gDf0ABAAhEiANIA5q/QAEACEUIA0gDkEBdGr9AAQAIRYgDSAOQQNsav0ABAAhGCAAIAhBAnRqIQsgASAJQQJ0aiEMIAMhCgNAIAz9AAQAIRAgEiAL/QkCACAQ/eYB/eQBIRIgFCAL/QkCBCAQ/eYB/eQBIRQgFiAL/QkCCCAQ/eYB/eQBIRYgGCAL/QkCDCAQ/eYB/eQBIRggCyAEaiELIAwgBWohDCAKQQFrIgoNAAsgDSAS/QsEACANIA5qIBT9CwQAIA0gDkEBdGogFv0LBAAgDSAOQQNsaiAY/QsEACAJQQRqIQkLAkADQCAJIAdODQH9DAAAAAAAAAAAAAAAAAAAAAAhEiAAIAhBAnRqIQsgASAJQQJ0aiEMIAMhCgNAIBIgC/0ABAAgDP0JAgD95gH95AEhEiALIARqIQsgDCAFaiEMIApBAWsiCg0ACyACIAggB2wgCWpBAnRqIQ0gDSANKgIAIBL9HwCSOAIAIA0gDmohDSANIA0qAgAgEv0fAZI4AgAgDSAOaiENIA0gDSoCACAS/R8CkjgCACANIA5qIQ0gDSANKgIAIBL9HwOSOAIAIAlBAWohCQwACwsgCEEEaiEIDAALCwJAA0AgCCAGTg0BQQAhCQJAA0AgCUEEaiAHSg0BIAIgCCAHbCAJakECdGohDSAN/QAEACESIAAgCEECdGohCyABIAlBAnRqIQwgAyEKA0AgEiAL/QkCACAM/QAEAP3mAf3kASESIAsgBGohCyAMIAVqIQwgCkEBayIKDQALIA0gEv0LBAAgCUEEaiEJDAALCwJAA0AgCSAHTg0BIAIgCCAHbCAJakECdGohDSANKgIAIRogACAIQQJ0aiELIAEgCUECdGohDCADIQoDQCAaIAsqAgAgDCoCAJSSIRogCyAEaiELIAwgBWohDCAKQQFrIgoNAAsgDSAaOAIAIAlBAWohCQwACwsgCEEBaiEIDAALCwtXAQJ/AkADQCAHIANODQEgAyAHayEIIAggBkoEQCAGIQgLIAAgByAEbEECdGogASAHIAVsQQJ0aiACIAggBEECdCAFQQJ0IAQgBRAEIAcgCGohBwwACwsLxwIBDH8gBkECdCEYIAlBAnQhGQJAA0AgECADTg0BQQAhEQJAA0AgESAHTg0BIAEgECAHbCARaiAIIBlsbGohG0EAIRICQANAIBIgCk4NASARIAxsIBJqIA5rIRQgFEEATiAUIARIcQRAIAAgECAEbCAUaiAFIBhsbGohGkEAIRMCQANAIBMgC04NASAPIBNrIRVBACEWIBVBAEoEQCAVIA1BAWtqIA1tIRYLIAVBAWsgFWohFUEAIRcgFUEATgRAIBUgDW1BAWohFwsgFyAISgRAIAghFwsgFyAWSgRAIBogFiANbCATaiAPayAYbGogGyAWIBlsaiACIBIgC2wgE2ogBiAZbGxqIBcgFmsgDSAYbCAZIAYgCRAECyATQQFqIRMMAAsLCyASQQFqIRIMAAsLIBFBAWohEQwACwsgEEEBaiEQDAALCwvgBQQTfwR7AX0BfyAJQXxxIRsgCUFwcSEoIAlBAnQhHCACISACQANAIBAgA04NAUEAIRECQANAIBEgBE4NASARIA5qIAxvIRggESAOaiAYayAMbSEhQQAhEgJAA0AgEiAFTg0BIBIgD2ogDW8hGSASIA9qIBlrIA1tISJBACETAkADQCATIAZODQH9DAAAAAAAAAAAAAAAAAAAAAAhI/0MAAAAAAAAAAAAAAAAAAAAACEk/QwAAAAAAAAAAAAAAAAAAAAAISX9DAAAAAAAAAAAAAAAAAAAAAAhJkMAAAAAIScgGCEUICEhFgJAA0AgFCAKTg0BIBZBAEgNASAWIAdIBEAgACAQIAdsIBZqIAggHGxsaiEdIBkhFSAiIRcCQANAIBUgC04NASAXQQBIDQEgFyAISARAIB0gFyAcbGohHiABIBQgC2wgFWogBmwgE2ogHGxqIR9BACEaAkADQCAaIChODQEgIyAe/QAEACAf/QAEAP3mAf3kASEjICQgHv0ABBAgH/0ABBD95gH95AEhJCAlIB79AAQgIB/9AAQg/eYB/eQBISUgJiAe/QAEMCAf/QAEMP3mAf3kASEmIB5BwABqIR4gH0HAAGohHyAaQRBqIRoMAAsLIB4gGkECdGshHiAfIBpBAnRrIR8CQANAIBogG04NASAjIB4gGkECdGr9AAQAIB8gGkECdGr9AAQA/eYB/eQBISMgGkEEaiEaDAALCwJAA0AgGiAJTg0BICcgHiAaQQJ0aioCACAfIBpBAnRqKgIAlJIhJyAaQQFqIRoMAAsLCyAVIA1qIRUgF0EBayEXDAALCwsgFCAMaiEUIBZBAWshFgwACwsgIyAk/eQBICUgJv3kAf3kASEjICAgI/0fACAj/R8BkiAj/R8CICP9HwOSkiAnkjgCACAgQQRqISAgE0EBaiETDAALCyASQQFqIRIMAAsLIBFBAWohEQwACwsgEEEBaiEQDAALCws=';

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
      const module = new wasmApi.Module(Buffer.from(BINARY_BASE64, 'base64'));
      k = new wasmApi.Instance(module, { env: { memory } }).exports as SimdKernels;
    } catch {
      k = null;
    }
    instances.set(memory, k);
  }
  return k;
}
