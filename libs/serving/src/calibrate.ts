import * as tf from '@tensorflow/tfjs';

export interface BatchCalibration {
  /** The batch size the model is served with. */
  batchSize: number;
  /** Measured forward-pass throughput per batch size tried. */
  samples: Array<{ size: number; imagesPerSecond: number }>;
}

/** Shortest time spent measuring one batch size (several passes for fast models, against timer noise). */
const MIN_SAMPLE_MS = 25;

/**
 * Finds the batch size a model should be served with on this machine: forward passes at 1, 2, 4, ...
 * up to maxBatchSize, stopping once doubling stops paying (wasm convolutions can get slower per image
 * past a size, e.g. MobileNetV2 at 224 px: 24 img/s at batch 4, 16 img/s at batch 8, measured), then
 * the smallest size within 2% of the best throughput (smaller batches also keep latency low).
 */
export async function calibrateBatchSize(model: tf.LayersModel, shape: readonly [number, number, number], maxBatchSize: number, budgetMs = 3_000): Promise<BatchCalibration> {
  const started = performance.now();
  const timePasses = async (size: number): Promise<number> => {
    const input = tf.randomUniform([size, ...shape], 0, 1, 'float32', 7);
    try {
      let passes = 0;
      const t0 = performance.now();
      do {
        const out = model.predict(input) as tf.Tensor;
        await out.data();
        out.dispose();
        passes++;
      } while (performance.now() - t0 < MIN_SAMPLE_MS);
      return (size * passes * 1000) / (performance.now() - t0);
    } finally {
      input.dispose();
    }
  };
  await timePasses(1); // warm-up: first passes allocate and initialize kernels
  const samples: BatchCalibration['samples'] = [];
  let best = 0;
  for (let size = 1; size <= maxBatchSize; size = size * 2 > maxBatchSize && size < maxBatchSize ? maxBatchSize : size * 2) {
    const rate = await timePasses(size);
    samples.push({ size, imagesPerSecond: Math.round(rate * 10) / 10 });
    const improved = rate > best * 1.05;
    best = Math.max(best, rate);
    if (!improved && size > 1) break;
    if (performance.now() - started > budgetMs || size === maxBatchSize) break;
  }
  const chosen = samples.find((s) => s.imagesPerSecond >= 0.98 * best) ?? samples[samples.length - 1];
  return { batchSize: chosen.size, samples };
}
