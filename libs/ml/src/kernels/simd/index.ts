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
  'AGFzbQEAAAABEwFgD39/f39/f39/f39/f39/fwACDwEDZW52Bm1lbW9yeQIAAQMCAQAHEAEMZHdGaWx0ZXJHcmFkAAAKmQMBlgMBDn8gBkF8cSEXIAZBAnQhGCABIRlBACEPAkADQCAPIANODQFBACEQAkADQCAQIAdODQFBACERAkADQCARIAhODQFBACESAkADQCASIAlODQEgECALbCASaiANayEUIBRBAE4gFCAESHEEQCAAIA8gBGwgFGogBSAYbGxqIRxBACETAkADQCATIApODQEgESAMbCATaiAOayEVIBVBAE4gFSAFSHEEQCAcIBUgGGxqIRogAiASIApsIBNqIBhsaiEbQQAhFgJAA0AgFiAXTg0BIBsgFkECdGogGyAWQQJ0av0ABAAgGiAWQQJ0av0ABAAgGSAWQQJ0av0ABAD95gH95AH9CwQAIBZBBGohFgwACwsCQANAIBYgBk4NASAbIBZBAnRqIBsgFkECdGoqAgAgGiAWQQJ0aioCACAZIBZBAnRqKgIAlJI4AgAgFkEBaiEWDAALCwsgE0EBaiETDAALCwsgEkEBaiESDAALCyAZIBhqIRkgEUEBaiERDAALCyAQQQFqIRAMAAsLIA9BAWohDwwACwsL';

export interface SimdKernels {
  /** See kernels.wat: depthwise filter gradient (multiplier 1, no dilation), acc zeroed by the caller. */
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
}

/** The WebAssembly API (global in Node; this project's TS libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const instances = new WeakMap<object, SimdKernels | null>();

/** The kernels bound to this backend's memory, or null where they cannot be instantiated. */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
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
