import * as tf from '@tensorflow/tfjs';

export interface BatchCalibration {
  /** The batch size the model is served with. */
  batchSize: number;
  /**
   * The smallest batch size with at least 80% of the best throughput: a batch this large is worth
   * starting while another runs (see MicroBatcherOptions.overlapAt).
   */
  efficientBatchSize: number;
  /**
   * Measured forward-pass throughput per batch size tried (from its fastest timed pass) and the
   * median duration of its timed passes in ms (what a pass typically costs here: the serving search
   * simulates with it).
   */
  samples: Array<{ size: number; imagesPerSecond: number; passMs: number }>;
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
/** A size within this fraction of the best throughput counts as as good (the largest such is served). */
const AS_GOOD = 0.8;
/** Untimed passes before the sweep, at most, and the share of the budget they may take. */
const WARM_UP_PASSES = 10;
const WARM_UP_SHARE = 0.1;

/**
 * Finds the batch size a model should be served with on this machine: forward passes at 1, 2, 4, ...
 * up to maxBatchSize, then the largest size within 20% of the best throughput. Under load a batch
 * cap costs more than its calibrated rate says (each pass also costs a hand-over to the inference
 * thread and a burst of responses on the request thread: a small CNN capped at 4 answered 1,280-1,720
 * req/s at c=32 where capped at 32 it answered 2,040-2,560, though calibration had put 4 within 6%
 * of 32), and a small CNN's curve is nearly flat from 4 to 32 images, where timing noise (10-15% on
 * the shared development machine) would pick the size at random: so only a clearly slower large size
 * is passed over (wasm convolutions can get slower per image past a size: MobileNetV2 at 224 px once
 * ran at 24 img/s at batch 4 and 16 img/s at batch 8). Only maxBatchSize and the time budget end the
 * sweep: a size whose passes would not end within the budget (estimated from the size below, scaled
 * linearly) is not started, so a slow model's first request does not wait for one more long step.
 * No rate ends it: in the inference thread the first visit of batch 2 often runs at half the rate of
 * batch 1 (931-1,275 against 1,570-2,200 img/s for the small CNN), and a stop there served batch 1.
 * A few untimed passes warm the code up first.
 *
 * Robust to a busy machine and to first-use costs: every size gets one untimed pass first (a new
 * batch shape creates and packs its kernels then), and its rate is from its fastest timed pass (other
 * work only ever makes a pass slower). Other work can still cover every pass of one visit (three
 * serving processes loading the same small CNN at once calibrated it at 2 and 4 instead of 32; on a
 * busy machine one visit measured 8 images at half the rate of 4 and, with an early stop after two
 * sizes that did not improve, capped a small CNN at 4), so when time remains every size is timed
 * again in reverse order and keeps its faster rate, and if the largest size tried then turns out the
 * best, the sweep goes on upwards.
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
  const durations = new Map<number, number[]>();
  const timeSize = async (size: number): Promise<number> => {
    let fastest = Infinity;
    const t0 = now();
    const timedPasses = durations.get(size) ?? [];
    durations.set(size, timedPasses);
    for (let passes = 0; passes < MIN_PASSES || now() - t0 < MIN_SAMPLE_MS; passes++) {
      const t = now();
      await runPass(size);
      const ms = now() - t;
      timedPasses.push(ms);
      fastest = Math.min(fastest, ms);
    }
    return (size * 1000) / Math.max(fastest, 1e-6);
  };
  const rates = new Map<number, number>();
  const best = () => Math.max(...rates.values());
  /** Whether `passes` passes at `size` would still end within the budget, estimated from the largest size timed below it. */
  const fits = (size: number, passes: number): boolean => {
    const below = [...rates.keys()].filter((s) => s <= size);
    if (below.length === 0) return true;
    const from = Math.max(...below);
    // Pass time scaled linearly with the size: an upper bound, as passes get cheaper per image with size.
    return now() - started + passes * ((from * 1000) / rates.get(from)!) * (size / from) <= budgetMs;
  };
  /** Sizes from `from` upwards (doubling), until maxBatchSize or the budget. */
  const sweepUp = async (from: number) => {
    for (let size = from; ; size = Math.min(size * 2, maxBatchSize)) {
      if (!fits(size, MIN_PASSES + 1)) return;
      await runPass(size);
      const rate = await timeSize(size);
      rates.set(size, rate);
      if (size >= maxBatchSize) return;
    }
  };
  // A new model's first passes run cold code (tfjs's JavaScript is not optimized yet): small sizes,
  // timed first, would look slower than they are.
  for (let i = 0; i < WARM_UP_PASSES && now() - started < WARM_UP_SHARE * budgetMs; i++) await runPass(1);
  await sweepUp(1);
  // Second visits, largest first; a size keeps its faster rate.
  for (const size of [...rates.keys()].sort((a, b) => b - a)) {
    if (fits(size, MIN_PASSES)) rates.set(size, Math.max(rates.get(size)!, await timeSize(size)));
  }
  // The first sweep stopped on a size that turns out to be the best: larger ones may be better still.
  const largest = Math.max(...rates.keys());
  if (largest < maxBatchSize && rates.get(largest)! >= AS_GOOD * best())
    await sweepUp(Math.min(largest * 2, maxBatchSize));
  const samples = [...rates.entries()]
    .sort(([a], [b]) => a - b)
    .map(([size, rate]) => ({
      size,
      imagesPerSecond: Math.round(rate * 10) / 10,
      passMs: Math.round(median(durations.get(size) ?? [(size * 1000) / rate]) * 1000) / 1000,
    }));
  const top = best();
  const chosen =
    samples.filter((s) => s.imagesPerSecond >= AS_GOOD * top).pop() ?? samples[samples.length - 1];
  const efficient = samples.find((s) => s.imagesPerSecond >= 0.8 * top) ?? chosen;
  return { batchSize: chosen.size, efficientBatchSize: Math.min(efficient.size, chosen.size), samples };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
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

export interface RequestCost {
  /** Median duration of the timed runs, ms: what one request typically costs the request thread here. */
  requestMs: number;
  /** Timed runs (after the untimed warm-up ones). */
  runs: number;
}

/**
 * Times `runRequest` (one request's work on the request thread) until both `minRuns` runs and
 * `minMs` have passed, or the budget ends, after a few untimed runs (cold code, first-use
 * allocations); the median run is the cost, so a pass of other work on the core moves it little.
 */
export async function calibrateRequestCost(
  runRequest: () => Promise<void>,
  options: CalibrationOptions & { minRuns?: number; minMs?: number } = {},
): Promise<RequestCost> {
  const now = options.now ?? (() => performance.now());
  const budgetMs = options.budgetMs ?? 1_000;
  const minRuns = options.minRuns ?? 15;
  const minMs = options.minMs ?? 50;
  const started = now();
  for (let i = 0; i < WARM_UP_PASSES && now() - started < WARM_UP_SHARE * budgetMs; i++) await runRequest();
  const durations: number[] = [];
  const timedFrom = now();
  while (
    durations.length < MIN_PASSES ||
    ((durations.length < minRuns || now() - timedFrom < minMs) && now() - started < budgetMs)
  ) {
    const t = now();
    await runRequest();
    durations.push(now() - t);
  }
  return { requestMs: Math.round(median(durations) * 1000) / 1000, runs: durations.length };
}
