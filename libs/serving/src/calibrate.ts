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
 * CNN look 2.4x slower at 2 than at 1 and served it one image at a time. Other work can also cover
 * every pass of a size (three serving processes loading the same small CNN at once calibrated it at
 * 2 and 4 instead of 32), so when time remains every size is timed again in reverse order and keeps
 * its faster rate (one burst rarely slows both visits to a size), and if the largest size tried then
 * turns out the best, the sweep goes on upwards.
 */
export async function calibrateBatches(
  runPass: (size: number) => Promise<void>,
  maxBatchSize: number,
  options: CalibrationOptions = {},
): Promise<BatchCalibration> {
  const now = options.now ?? (() => performance.now());
  const budgetMs = options.budgetMs ?? 3_000;
  const started = now();
  /** Images per second of the fastest of a few timed passes at `size`. */
  const timeSize = async (size: number): Promise<number> => {
    let fastest = Infinity;
    const t0 = now();
    for (let passes = 0; passes < MIN_PASSES || now() - t0 < MIN_SAMPLE_MS; passes++) {
      const t = now();
      await runPass(size);
      fastest = Math.min(fastest, now() - t);
    }
    return (size * 1000) / Math.max(fastest, 1e-6);
  };
  const rates = new Map<number, number>();
  const best = () => Math.max(...rates.values());
  const overBudget = () => now() - started > budgetMs;
  /** Sizes from `from` upwards (doubling), until larger ones stop paying, maxBatchSize or the budget. */
  const sweepUp = async (from: number) => {
    let stale = 0;
    for (let size = from; ; size = Math.min(size * 2, maxBatchSize)) {
      const before = rates.size > 0 ? best() : 0;
      await runPass(size);
      const rate = await timeSize(size);
      rates.set(size, rate);
      stale = rate > before * 1.05 ? 0 : stale + 1;
      if (size >= maxBatchSize || stale >= 2 || rate < 0.8 * best() || overBudget()) return;
    }
  };
  await sweepUp(1);
  // Second visits, largest first; a size keeps its faster rate.
  for (const size of [...rates.keys()].sort((a, b) => b - a)) {
    if (overBudget()) break;
    rates.set(size, Math.max(rates.get(size)!, await timeSize(size)));
  }
  // The first sweep stopped on a size that turns out to be the best: larger ones may be better still.
  const largest = Math.max(...rates.keys());
  if (largest < maxBatchSize && rates.get(largest)! >= 0.98 * best() && !overBudget()) await sweepUp(Math.min(largest * 2, maxBatchSize));
  const samples = [...rates.entries()].sort(([a], [b]) => a - b).map(([size, rate]) => ({ size, imagesPerSecond: Math.round(rate * 10) / 10 }));
  const top = best();
  const chosen = samples.find((s) => s.imagesPerSecond >= 0.98 * top) ?? samples[samples.length - 1];
  const efficient = samples.find((s) => s.imagesPerSecond >= 0.8 * top) ?? chosen;
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
