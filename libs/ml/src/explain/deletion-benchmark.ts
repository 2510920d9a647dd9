import type * as tf from '@tensorflow/tfjs';
import { blurredImage, deletionCurve, patchOrder, randomOrder, rankPixels } from './deletion';
import { explainImage, explainRequestSchema, type ExplainRequest } from './explain-image';
import { predictOne, type Baseline } from './model-fn';
import type { Attribution, ModelImage } from './types';

/** An explainer under test: a request (method and budget) or a named function. */
export type DeletionCandidate =
  | ExplainRequest
  | {
      name: string;
      explain: (model: tf.LayersModel, image: ModelImage, target: number) => Promise<Attribution>;
    };

export interface DeletionBenchmarkOptions {
  /** The explanations compared. */
  requests: readonly DeletionCandidate[];
  /** Random pixel orders averaged for the reference curve. Default 3. */
  randomOrders?: number;
  /** Curve points after the start. Default 20. */
  steps?: number;
  baseline?: Baseline;
  seed?: number;
  /** Delete patch x patch squares instead of single pixels, for the methods and for random (default 1: pixels). */
  patch?: number;
  /** Deleted pixels take the baseline (default) or the image's own blurred copy ({@link blurredImage}, radius `blurRadius`, default 8). */
  fill?: 'baseline' | 'blur';
  blurRadius?: number;
}

export interface DeletionScore {
  /** The method, 'random', or a named candidate's name. */
  method: string;
  /** Mean deletion AUC over the images (lower: the ranking removed what the model needs sooner). */
  meanAuc: number;
  /** Share of images whose AUC is below that image's random-order AUC. */
  winRate: number;
  /** Mean explanation time per image (0 for random). */
  meanMs: number;
  /** Mean curve (p(target) after removing each fraction). */
  meanCurve: number[];
  aucs: number[];
}

/**
 * The deletion test of each requested method on each image (explaining the predicted class), beside
 * random pixel orders: the evidence that an attribution ranks pixels by what the model uses.
 */
export async function deletionBenchmark(
  model: tf.LayersModel,
  images: readonly ModelImage[],
  options: DeletionBenchmarkOptions,
): Promise<{ fractions: number[]; scores: DeletionScore[] }> {
  const randomOrders = options.randomOrders ?? 3;
  const steps = options.steps ?? 20;
  const patch = Math.max(1, options.patch ?? 1);
  const baseCurveOptions = { steps, baseline: options.baseline };
  const randomAucs: number[] = [];
  const randomCurves: number[][] = [];
  const methodRuns = options.requests.map(() => ({ aucs: [] as number[], ms: 0, curves: [] as number[][] }));
  let fractions: number[] = [];
  for (let i = 0; i < images.length; i++) {
    const image = images[i];
    const curveOptions =
      options.fill === 'blur'
        ? { ...baseCurveOptions, fill: blurredImage(image, options.blurRadius ?? 8) }
        : baseCurveOptions;
    const target = (await predictOne(model, image)).predicted;
    const [h, w] = image.shape;
    const pixels = h * w;
    let randomAuc = 0;
    const randomCurve = new Array<number>(steps + 1).fill(0);
    for (let r = 0; r < randomOrders; r++) {
      const seed = (options.seed ?? 0) * 1000 + i * 31 + r;
      const order = patch > 1 ? patchOrder(undefined, h, w, patch, seed) : randomOrder(pixels, seed);
      const curve = await deletionCurve(model, image, target, order, curveOptions);
      fractions = curve.fractions;
      randomAuc += curve.auc / randomOrders;
      curve.probabilities.forEach((p, k) => (randomCurve[k] += p / randomOrders));
    }
    randomAucs.push(randomAuc);
    randomCurves.push(randomCurve);
    for (let m = 0; m < options.requests.length; m++) {
      const candidate = options.requests[m];
      const started = Date.now();
      const attribution =
        'explain' in candidate
          ? await candidate.explain(model, image, target)
          : await explainImage(model, image, explainRequestSchema.parse({ ...candidate, target }), {
              baseline: options.baseline,
            });
      methodRuns[m].ms += Date.now() - started;
      const order =
        patch > 1 ? patchOrder(attribution.heatmap, h, w, patch, i) : rankPixels(attribution.heatmap, i);
      const curve = await deletionCurve(model, image, target, order, curveOptions);
      methodRuns[m].aucs.push(curve.auc);
      methodRuns[m].curves.push(curve.probabilities);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const meanCurve = (curves: number[][]) =>
    Array.from({ length: steps + 1 }, (_, k) => mean(curves.map((c) => c[k])));
  const scores: DeletionScore[] = [
    {
      method: 'random',
      meanAuc: mean(randomAucs),
      winRate: 0,
      meanMs: 0,
      meanCurve: meanCurve(randomCurves),
      aucs: randomAucs,
    },
    ...methodRuns.map((run, m) => ({
      method: nameOf(options.requests[m]),
      meanAuc: mean(run.aucs),
      winRate: run.aucs.filter((auc, i) => auc < randomAucs[i]).length / Math.max(1, run.aucs.length),
      meanMs: run.ms / Math.max(1, images.length),
      meanCurve: meanCurve(run.curves),
      aucs: run.aucs,
    })),
  ];
  return { fractions, scores };
}

function nameOf(candidate: DeletionCandidate): string {
  return 'explain' in candidate ? candidate.name : explainRequestSchema.parse(candidate).method;
}
