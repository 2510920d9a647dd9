/**
 * Estimates of a training job before it runs (docs/jobs.md, "Estimate before training"): pure logic
 * over throughput samples that finished TRAIN jobs measured (`training_throughput`), with a fallback
 * table when none exist.
 */

/** Seconds of a job outside training and inference that do not grow with the data (shard index, model build). */
export const SETUP_SECONDS = 2;

/**
 * Fallback training speed of the whole network (samples/s) on a CPU worker (one thread, wasm, no BLAS
 * addon), at `size` px: small_cnn_m at 64 px is measured (docs/ml-engine.md, 22 samples/s); the others
 * are scaled from it (see docs/jobs.md). Other sizes scale with the pixel count.
 */
export const FALLBACK_THROUGHPUT: Record<string, { size: number; samplesPerSec: number }> = {
  small_cnn_xs: { size: 64, samplesPerSec: 60 },
  small_cnn_s: { size: 64, samplesPerSec: 40 },
  small_cnn_m: { size: 64, samplesPerSec: 22 },
  small_cnn_l: { size: 64, samplesPerSec: 10 },
  mobilenet_v2: { size: 224, samplesPerSec: 3.7 },
  inception_v3: { size: 299, samplesPerSec: 0.2 },
};
/** A frozen backbone (head phase) trains this many times faster than the whole network (fallback only). */
export const FALLBACK_FROZEN_SPEEDUP = 3;
/** Inference runs this many times faster than training the whole network (fallback only). */
export const FALLBACK_INFERENCE_SPEEDUP = 3;
const UNKNOWN_BACKBONE = { size: 64, samplesPerSec: 10 };

export interface ThroughputSample {
  workerKind: string;
  inputSize: number;
  phaseKind: string;
  samplesPerSec: number;
  overheadSeconds: number;
  /** Epoch ends plus models of the measured run. */
  overheadUnits: number;
}

export interface EstimateInput {
  backboneId: string;
  /** max(height, width) the backbone runs at. */
  inputSize: number;
  phases: { name: string; epochs: number; backbone: 'frozen' | 'trainable' }[];
  trainSamples: number;
  validationSamples: number;
  testSamples: number;
  /** The job's wall-clock budget. */
  budgetMinutes: number;
  /** Samples measured on this worker kind for this backbone and channels (any input size), newest first. */
  samples: ThroughputSample[];
}

export interface PhaseEstimate {
  name: string;
  epochs: number;
  backbone: 'frozen' | 'trainable';
  samplesPerSec: number;
  /** 'measured': median of `measurements` samples at this input size (or scaled from the nearest size); 'table': fallback. */
  source: 'measured' | 'table';
  measurements: number;
  seconds: number;
}

export interface TrainingEstimate {
  /** Wall-clock minutes from the job's start to its end (full epochs; early stopping can end sooner). */
  expectedMinutes: number;
  /** The same in seconds (unrounded minutes hide small jobs). */
  expectedSeconds: number;
  firstModelSeconds: number;
  /** Minutes from the start until the first evaluated model exists (after the first phase). */
  firstModelMinutes: number;
  /** Compute minutes the job will charge against the tenant's monthly quota (its running wall-clock time). */
  computeMinutes: number;
  /** The budget ends the job before all its epochs: the estimate is the budget (plus the last evaluation). */
  limitedByBudget: boolean;
  phases: PhaseEstimate[];
  /** Seconds outside training per epoch end and per model (validation, checkpoint, evaluation, export), and where that came from. */
  overhead: { secondsPerUnit: number; source: 'measured' | 'table' };
  setupSeconds: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Speed of one phase kind: measured at this size, else scaled (by pixels) from the nearest measured size, else the table. */
function phaseSpeed(
  input: EstimateInput,
  kind: 'frozen' | 'trainable',
): { samplesPerSec: number; source: 'measured' | 'table'; measurements: number } {
  const ofKind = input.samples.filter((s) => s.phaseKind === kind && s.samplesPerSec > 0);
  if (ofKind.length > 0) {
    const nearest = ofKind.reduce((best, s) =>
      Math.abs(s.inputSize - input.inputSize) < Math.abs(best.inputSize - input.inputSize) ? s : best,
    ).inputSize;
    const atSize = ofKind.filter((s) => s.inputSize === nearest).slice(0, 20);
    const scale = (nearest / input.inputSize) ** 2;
    return {
      samplesPerSec: median(atSize.map((s) => s.samplesPerSec)) * scale,
      source: 'measured',
      measurements: atSize.length,
    };
  }
  const t = FALLBACK_THROUGHPUT[input.backboneId] ?? UNKNOWN_BACKBONE;
  const trainable = t.samplesPerSec * (t.size / input.inputSize) ** 2;
  return {
    samplesPerSec: kind === 'frozen' ? trainable * FALLBACK_FROZEN_SPEEDUP : trainable,
    source: 'table',
    measurements: 0,
  };
}

export function estimateTraining(input: EstimateInput): TrainingEstimate {
  const phases: PhaseEstimate[] = input.phases.map((p) => {
    const speed = phaseSpeed(input, p.backbone);
    return {
      ...p,
      ...speed,
      seconds: (p.epochs * input.trainSamples) / Math.max(1e-6, speed.samplesPerSec),
    };
  });
  // Time outside the training steps, per epoch end (validation, checkpoint) and per model (test
  // evaluation, export): what measured jobs spent there beyond the fixed setup, per such unit; else
  // inference at a multiple of the whole-network training speed on the larger of the two splits, plus 1 s.
  const measured = input.samples.filter((s) => s.overheadUnits > 0);
  const overhead =
    measured.length > 0
      ? {
          secondsPerUnit: median(
            measured
              .slice(0, 20)
              .map((s) => Math.max(0, s.overheadSeconds - SETUP_SECONDS) / s.overheadUnits),
          ),
          source: 'measured' as const,
        }
      : {
          secondsPerUnit:
            Math.max(input.validationSamples, input.testSamples) /
              (phaseSpeed({ ...input, samples: [] }, 'trainable').samplesPerSec *
                FALLBACK_INFERENCE_SPEEDUP) +
            1,
          source: 'table' as const,
        };
  const perEpochEval = overhead.secondsPerUnit;
  const perModelEval = overhead.secondsPerUnit;
  const phaseWall = phases.map((p) => p.seconds + p.epochs * perEpochEval + perModelEval);
  const fullSeconds = SETUP_SECONDS + phaseWall.reduce((a, b) => a + b, 0);
  const firstSeconds = SETUP_SECONDS + (phaseWall[0] ?? perModelEval);
  // At the budget the job stops training, evaluates what it has and keeps it.
  const budgetSeconds = input.budgetMinutes * 60;
  const limitedByBudget = fullSeconds > budgetSeconds;
  const expected = limitedByBudget ? budgetSeconds + perModelEval : fullSeconds;
  const first = Math.min(firstSeconds, budgetSeconds + perModelEval);
  return {
    expectedMinutes: round1(expected / 60),
    expectedSeconds: Math.round(expected),
    firstModelSeconds: Math.round(first),
    firstModelMinutes: round1(first / 60),
    computeMinutes: round1(expected / 60),
    limitedByBudget,
    phases: phases.map((p) => ({
      ...p,
      samplesPerSec: round1(p.samplesPerSec),
      seconds: Math.round(p.seconds),
    })),
    overhead: { ...overhead, secondsPerUnit: Math.round(overhead.secondsPerUnit * 1000) / 1000 },
    setupSeconds: SETUP_SECONDS,
  };
}
