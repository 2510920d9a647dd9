import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Attrs = Record<string, unknown>;

/** [top, bottom, left, right]; entries may be negative (meaning: crop). */
export type Pads4 = [number, number, number, number];

/**
 * Runs existing wasm kernels on TensorInfos inside a custom kernel. Every intermediate is tracked and
 * released by `finish`, which hands back only the result, so a kernel leaks nothing whatever path it
 * takes (the engine only sees the returned TensorInfo).
 */
export class WasmOps {
  private readonly temps: tf.TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  run(kernelName: string, inputs: Record<string, tf.TensorInfo>, attrs: Attrs = {}): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (!kernel) throw new Error(`wasm backend has no kernel ${kernelName}`);
    const out = kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: this.backend });
    if (Array.isArray(out)) throw new Error(`kernel ${kernelName} returned several outputs`);
    this.temps.push(out);
    return out;
  }

  /** Tracks a TensorInfo produced outside `run` (e.g. by a wrapped kernel) like the others. */
  adopt(x: tf.TensorInfo): tf.TensorInfo {
    this.temps.push(x);
    return x;
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  sum(x: tf.TensorInfo, axis: number[]): tf.TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  /**
   * Reverse. Flipping the two spatial axes of a float32 filter ([fh, fw, ...]) is done here as block
   * copies (a no-op for 1x1 filters): the shipped kernel costs ~1 ms per MobileNetV2 filter.
   */
  reverse(x: tf.TensorInfo, dims: number[]): tf.TensorInfo {
    const spatial = dims.length === 2 && dims[0] === 0 && dims[1] === 1 && x.shape.length >= 2;
    if (!spatial || x.dtype !== 'float32') return this.run('Reverse', { x }, { dims });
    const [fh, fw] = x.shape;
    if (fh === 1 && fw === 1) return x;
    const block = x.shape.slice(2).reduce((a, b) => a * b, 1);
    const out = this.adopt(this.backend.makeOutput(x.shape, 'float32'));
    const src = this.backend.typedArrayFromHeap(x) as Float32Array;
    const dst = this.backend.typedArrayFromHeap(out) as Float32Array;
    for (let i = 0; i < fh; i++)
      for (let j = 0; j < fw; j++) {
        const from = (i * fw + j) * block;
        dst.set(src.subarray(from, from + block), ((fh - 1 - i) * fw + (fw - 1 - j)) * block);
      }
    return out;
  }

  /** Inserts `s - 1` zeros after every row/column of an NHWC tensor (the "dilation" of a gradient). */
  zeroInsert(x: tf.TensorInfo, sh: number, sw: number): tf.TensorInfo {
    if (sh === 1 && sw === 1) return x;
    const [n, h, w, c] = x.shape;
    const r = this.reshape(x, [n * h, 1, w, 1, c]);
    const p = this.run(
      'PadV2',
      { x: r },
      {
        paddings: [
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    return this.reshape(p, [n, h * sh, w * sw, c]);
  }

  /**
   * 2-D convolution (regular or depthwise) with explicit, possibly negative, paddings. A negative padding
   * crops the input instead, which XNNPACK cannot express directly.
   */
  conv(
    x: tf.TensorInfo,
    filter: tf.TensorInfo,
    opts: { strides: [number, number]; dilations: [number, number]; pads: Pads4; depthwise: boolean },
  ): tf.TensorInfo {
    const [t, b, l, r] = opts.pads;
    let input = x;
    if (t < 0 || b < 0 || l < 0 || r < 0) {
      const [n, h, w, c] = x.shape;
      const top = Math.max(0, -t);
      const left = Math.max(0, -l);
      const height = h - top - Math.max(0, -b);
      const width = w - left - Math.max(0, -r);
      input = this.run('Slice', { x }, { begin: [0, top, left, 0], size: [n, height, width, c] });
    }
    const pad = [
      [0, 0],
      [Math.max(0, t), Math.max(0, b)],
      [Math.max(0, l), Math.max(0, r)],
      [0, 0],
    ];
    const attrs = {
      strides: opts.strides,
      dilations: opts.dilations,
      pad,
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
    };
    return this.run(opts.depthwise ? 'DepthwiseConv2dNative' : 'Conv2D', { x: input, filter }, attrs);
  }

  /** Releases every intermediate except `result` (if given). */
  release(result?: tf.TensorInfo): void {
    for (const t of this.temps) if (t !== result) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}

/**
 * Runs `body` with a fresh WasmOps and returns its result to the engine; intermediates are released even
 * when `body` throws. The result must come from the context (not be one of the kernel's inputs).
 */
export function withWasmOps(backend: unknown, body: (ops: WasmOps) => tf.TensorInfo): tf.TensorInfo {
  const ops = new WasmOps(backend as BackendWasm);
  let result: tf.TensorInfo | undefined;
  try {
    result = body(ops);
    return result;
  } finally {
    ops.release(result);
  }
}
