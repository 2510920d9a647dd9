import * as tf from '@tensorflow/tfjs';

export interface BatchCalibration {
  /** The batch size the model is served with. */
  batchSize: number;
  /**
   * The smallest batch size with at least 80% of the best throughput: a batch this large is worth
   * starting while another runs (see MicroBatcherOptions.overlapAt).
   */
  efficientBatchSize: number;
  /** Measured forward-pass throughput per batch size tried. */
  samples: Array<{ size: number; imagesPerSecond: number }>;
}

export interface CalibrationOptions {
  /** Stop trying larger sizes once this much time has gone (the model's first request waits). */
  budgetMs?: number;
  /** Clock in ms (tests inject one). */
  now?: () => number;
}

/** Timed passes per batch size at least, and at least this long in all (fast models, timer noise). */
const MIN_PASSES = 3;
const MIN_SAMPLE_MS = 25;

/**
 * Finds the batch size a model should be served with on this machine: forward passes at 1, 2, 4, ...
 * up to maxBatchSize, then the smallest size within 2% of the best throughput (smaller batches also
 * keep latency low). Wasm convolutions can get slower per image past a size (MobileNetV2 at 224 px:
 * 24 img/s at batch 4, 16 img/s at batch 8, measured), so it stops after two sizes in a row that do
 * not improve by 5%, or one 20% worse than the best.
 *
 * Robust to a busy machine and to first-use costs: every size gets one untimed pass first (a new
 * batch shape creates and packs its kernels then), and its rate is from its fastest timed pass (other
 * work only ever makes a pass slower). Without both, one slow first pass at batch 2 once made a small
 * CNN look 2.4x slower at 2 than at 1 and served it one image at a time.
 */
export async function calibrateBatches(
  runPass: (size: number) => Promise<void>,
  maxBatchSize: number,
  options: CalibrationOptions = {},
): Promise<BatchCalibration> {
  const now = options.now ?? (() => performance.now());
  const budgetMs = options.budgetMs ?? 3_000;
  const started = now();
  const samples: BatchCalibration['samples'] = [];
  let best = 0;
  let stale = 0;
  for (let size = 1; ; size = Math.min(size * 2, maxBatchSize)) {
    await runPass(size);
    let fastest = Infinity;
    const t0 = now();
    for (let passes = 0; passes < MIN_PASSES || now() - t0 < MIN_SAMPLE_MS; passes++) {
      const t = now();
      await runPass(size);
      fastest = Math.min(fastest, now() - t);
    }
    const rate = (size * 1000) / Math.max(fastest, 1e-6);
    samples.push({ size, imagesPerSecond: Math.round(rate * 10) / 10 });
    stale = rate > best * 1.05 ? 0 : stale + 1;
    best = Math.max(best, rate);
    if (size >= maxBatchSize || stale >= 2 || rate < 0.8 * best || now() - started > budgetMs) break;
  }
  const chosen = samples.find((s) => s.imagesPerSecond >= 0.98 * best) ?? samples[samples.length - 1];
  const efficient = samples.find((s) => s.imagesPerSecond >= 0.8 * best) ?? chosen;
  return { batchSize: chosen.size, efficientBatchSize: Math.min(efficient.size, chosen.size), samples };
}

/** `calibrateBatches` with forward passes of the model on random inputs of the given HWC shape. */
export async function calibrateBatchSize(
  model: tf.LayersModel,
  shape: readonly [number, number, number],
  maxBatchSize: number,
  budgetMs = 3_000,
): Promise<BatchCalibration> {
  const inputs = new Map<number, tf.Tensor>();
  try {
    return await calibrateBatches(
      async (size) => {
        let input = inputs.get(size);
        if (!input) inputs.set(size, (input = tf.randomUniform([size, ...shape], 0, 1, 'float32', 7)));
        const out = model.predict(input) as tf.Tensor;
        await out.data();
        out.dispose();
      },
      maxBatchSize,
      { budgetMs },
    );
  } finally {
    for (const input of inputs.values()) input.dispose();
  }
}
