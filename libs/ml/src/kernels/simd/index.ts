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
  'AGFzbQEAAAABSwZgD39/f39/f39/f39/f39/fwBgBn9/f399fQBgBH9/f38AYAd/f39/f39/AGAIf39/f39/f38AYBB/f39/f39/f39/f39/f39/AAIPAQNlbnYGbWVtb3J5AgABAwgHAAECAwQDBQdTBgxkd0ZpbHRlckdyYWQAAAhjbGlwR3JhZAABB3N1bVJvd3MAAgZiblN1bXMAAxFjb252RmlsdGVyR3JhZDF4MQAFDmNvbnZGaWx0ZXJHcmFkAAYKixYHlgMBDn8gBkF8cSEXIAZBAnQhGCABIRlBACEPAkADQCAPIANODQFBACEQAkADQCAQIAdODQFBACERAkADQCARIAhODQFBACESAkADQCASIAlODQEgECALbCASaiANayEUIBRBAE4gFCAESHEEQCAAIA8gBGwgFGogBSAYbGxqIRxBACETAkADQCATIApODQEgESAMbCATaiAOayEVIBVBAE4gFSAFSHEEQCAcIBUgGGxqIRogAiASIApsIBNqIBhsaiEbQQAhFgJAA0AgFiAXTg0BIBsgFkECdGogGyAWQQJ0av0ABAAgGiAWQQJ0av0ABAAgGSAWQQJ0av0ABAD95gH95AH9CwQAIBZBBGohFgwACwsCQANAIBYgBk4NASAbIBZBAnRqIBsgFkECdGoqAgAgGiAWQQJ0aioCACAZIBZBAnRqKgIAlJI4AgAgFkEBaiEWDAALCwsgE0EBaiETDAALCwsgEkEBaiESDAALCyAZIBhqIRkgEUEBaiERDAALCyAQQQFqIRAMAAsLIA9BAWohDwwACwsLrAEEAn8DewF/AX0gA0F8cSEHIAT9EyEIIAX9EyEJAkADQCAGIAdODQEgBkECdCELIAAgC2r9AAQAIQogAiALaiABIAtq/QAEACAKIAj9RiAKIAn9Rf1O/U79CwQAIAZBBGohBgwACwsCQANAIAYgA04NASAGQQJ0IQsgACALaioCACEMIAIgC2ogASALaigCAEEAIAwgBGAgDCAFX3EbNgIAIAZBAWohBgwACwsL1AECBX8BeyADQXxxIQYgACEHAkADQCAEIAJODQFBACEFAkADQCAFIAZODQEgByAFQQJ0av0ABAAhCSABIAVBA3RqIQggCCAI/QAEACAJ/V/98AH9CwQAIAggCP0ABBAgCSAJ/Q0ICQoLDA0ODwABAgMEBQYH/V/98AH9CwQQIAVBBGohBQwACwsCQANAIAUgA04NASABIAVBA3RqIQggCCAIKwMAIAcgBUECdGoqAgC7oDkDACAFQQFqIQUMAAsLIAcgA0ECdGohByAEQQFqIQQMAAsLC/wCBAZ/AnsCfwF9IAZBfHEhCSAAIQsgASEMAkADQCAHIAVODQFBACEIAkADQCAIIAlODQEgCEECdCEKIAsgCmr9AAQAIQ0gDSAMIApq/QAEACACIApq/QAEAP3lAf3mASEOIAMgCEEDdGohDyAEIAhBA3RqIRAgDyAP/QAEACAN/V/98AH9CwQAIA8gD/0ABBAgDSAN/Q0ICQoLDA0ODwABAgMEBQYH/V/98AH9CwQQIBAgEP0ABAAgDv1f/fAB/QsEACAQIBD9AAQQIA4gDv0NCAkKCwwNDg8AAQIDBAUGB/1f/fAB/QsEECAIQQRqIQgMAAsLAkADQCAIIAZODQEgCEECdCEKIAsgCmoqAgAhESADIAhBA3RqIQ8gBCAIQQN0aiEQIA8gDysDACARu6A5AwAgECAQKwMAIBEgDCAKaioCACACIApqKgIAk5S7oDkDACAIQQFqIQgMAAsLIAsgBkECdGohCyAMIAZBAnRqIQwgB0EBaiEHDAALCwvNCQMHfwt7AX0gB0ECdCEOAkADQCAIQQRqIAZKDQFBACEJAkADQCAJQQhqIAdKDQEgAiAIIAdsIAlqQQJ0aiENIA39AAQAIRIgDf0ABBAhEyANIA5q/QAEACEUIA0gDmr9AAQQIRUgDSAOQQF0av0ABAAhFiANIA5BAXRq/QAEECEXIA0gDkEDbGr9AAQAIRggDSAOQQNsav0ABBAhGSAAIAhBAnRqIQsgASAJQQJ0aiEMIAMhCgNAIAz9AAQAIRAgDP0ABBAhESAL/QkCACEPIBIgDyAQ/eYB/eQBIRIgEyAPIBH95gH95AEhEyAL/QkCBCEPIBQgDyAQ/eYB/eQBIRQgFSAPIBH95gH95AEhFSAL/QkCCCEPIBYgDyAQ/eYB/eQBIRYgFyAPIBH95gH95AEhFyAL/QkCDCEPIBggDyAQ/eYB/eQBIRggGSAPIBH95gH95AEhGSALIARqIQsgDCAFaiEMIApBAWsiCg0ACyANIBL9CwQAIA0gE/0LBBAgDSAOaiAU/QsEACANIA5qIBX9CwQQIA0gDkEBdGogFv0LBAAgDSAOQQF0aiAX/QsEECANIA5BA2xqIBj9CwQAIA0gDkEDbGogGf0LBBAgCUEIaiEJDAALCyAJQQRqIAdMBEAgAiAIIAdsIAlqQQJ0aiENIA39AAQAIRIgDSAOav0ABAAhFCANIA5BAXRq/QAEACEWIA0gDkEDbGr9AAQAIRggACAIQQJ0aiELIAEgCUECdGohDCADIQoDQCAM/QAEACEQIBIgC/0JAgAgEP3mAf3kASESIBQgC/0JAgQgEP3mAf3kASEUIBYgC/0JAgggEP3mAf3kASEWIBggC/0JAgwgEP3mAf3kASEYIAsgBGohCyAMIAVqIQwgCkEBayIKDQALIA0gEv0LBAAgDSAOaiAU/QsEACANIA5BAXRqIBb9CwQAIA0gDkEDbGogGP0LBAAgCUEEaiEJCwJAA0AgCSAHTg0B/QwAAAAAAAAAAAAAAAAAAAAAIRIgACAIQQJ0aiELIAEgCUECdGohDCADIQoDQCASIAv9AAQAIAz9CQIA/eYB/eQBIRIgCyAEaiELIAwgBWohDCAKQQFrIgoNAAsgAiAIIAdsIAlqQQJ0aiENIA0gDSoCACAS/R8AkjgCACANIA5qIQ0gDSANKgIAIBL9HwGSOAIAIA0gDmohDSANIA0qAgAgEv0fApI4AgAgDSAOaiENIA0gDSoCACAS/R8DkjgCACAJQQFqIQkMAAsLIAhBBGohCAwACwsCQANAIAggBk4NAUEAIQkCQANAIAlBBGogB0oNASACIAggB2wgCWpBAnRqIQ0gDf0ABAAhEiAAIAhBAnRqIQsgASAJQQJ0aiEMIAMhCgNAIBIgC/0JAgAgDP0ABAD95gH95AEhEiALIARqIQsgDCAFaiEMIApBAWsiCg0ACyANIBL9CwQAIAlBBGohCQwACwsCQANAIAkgB04NASACIAggB2wgCWpBAnRqIQ0gDSoCACEaIAAgCEECdGohCyABIAlBAnRqIQwgAyEKA0AgGiALKgIAIAwqAgCUkiEaIAsgBGohCyAMIAVqIQwgCkEBayIKDQALIA0gGjgCACAJQQFqIQkMAAsLIAhBAWohCAwACwsLVwECfwJAA0AgByADTg0BIAMgB2shCCAIIAZKBEAgBiEICyAAIAcgBGxBAnRqIAEgByAFbEECdGogAiAIIARBAnQgBUECdCAEIAUQBCAHIAhqIQcMAAsLC8cCAQx/IAZBAnQhGCAJQQJ0IRkCQANAIBAgA04NAUEAIRECQANAIBEgB04NASABIBAgB2wgEWogCCAZbGxqIRtBACESAkADQCASIApODQEgESAMbCASaiAOayEUIBRBAE4gFCAESHEEQCAAIBAgBGwgFGogBSAYbGxqIRpBACETAkADQCATIAtODQEgDyATayEVQQAhFiAVQQBKBEAgFSANQQFraiANbSEWCyAFQQFrIBVqIRVBACEXIBVBAE4EQCAVIA1tQQFqIRcLIBcgCEoEQCAIIRcLIBcgFkoEQCAaIBYgDWwgE2ogD2sgGGxqIBsgFiAZbGogAiASIAtsIBNqIAYgGWxsaiAXIBZrIA0gGGwgGSAGIAkQBAsgE0EBaiETDAALCwsgEkEBaiESDAALCyARQQFqIREMAAsLIBBBAWohEAwACwsL';

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
