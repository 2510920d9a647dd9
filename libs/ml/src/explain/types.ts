/** An image as the model takes it: normalized HWC float32 values. */
export interface ModelImage {
  data: Float32Array;
  /** [height, width, channels] */
  shape: [number, number, number];
}

export type AttributionMethod = 'integrated-gradients' | 'smoothgrad' | 'grad-cam' | 'lime';

export const ATTRIBUTION_METHODS: readonly AttributionMethod[] = [
  'integrated-gradients',
  'smoothgrad',
  'grad-cam',
  'lime',
];

/** What every attribution method returns. */
export interface Attribution {
  method: AttributionMethod;
  /** Class index explained. */
  target: number;
  /** Model probability of `target` for the image. */
  probability: number;
  height: number;
  width: number;
  /**
   * One score per pixel (row-major, height x width, channels combined): larger means more evidence
   * for `target`. Rank pixels by it (the deletion test removes the largest first).
   */
  heatmap: Float32Array;
  /** Forward-pass images the method ran (gradient passes count once per image). */
  modelImages: number;
  ms: number;
}
