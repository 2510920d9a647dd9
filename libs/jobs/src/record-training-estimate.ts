/**
 * Estimates of a text-classification or tabular TRAIN job before it runs (docs/jobs.md, "Estimate before
 * training"): pure logic over what finished text/tabular jobs measured per candidate
 * (`training_throughput` rows with `backbone_id` = `text:<candidate>` or `tabular:<candidate>`,
 * `input_size` = the size feature, `channels` = 0), with a documented fallback when none exist.
 */
import type { PhaseEstimate, TrainingEstimate } from './training-estimate';

export type RecordTask = 'text' | 'tabular';

/** `channels` of a record task's throughput rows (image rows have 1 or 3). */
export const RECORD_CHANNELS = 0;

/** The `backbone_id` a record task's candidate is measured under. */
export function recordThroughputKey(task: RecordTask, candidate: string): string {
  return `${task}:${candidate}`;
}

/**
 * Fallback speeds, in training samples x epochs per second at `size` (text: classes; tabular: feature
 * columns), for a candidate kind never measured on this worker kind. Deliberately conservative (slower
 * than measured on a 2-vCPU worker under load, docs/jobs.md): an estimate from the table errs long.
 */
export const RECORD_FALLBACK_THROUGHPUT: Record<string, { size: number; samplesPerSec: number }> = {
  'text:linear': { size: 4, samplesPerSec: 2_000 },
  'text:cnn': { size: 4, samplesPerSec: 150 },
  'tabular:linear': { size: 8, samplesPerSec: 5_000 },
  'tabular:gbdt': { size: 8, samplesPerSec: 300 },
  'tabular:gbdt_small': { size: 8, samplesPerSec: 600 },
};
/** Fallback time outside training (reading shards, evaluation, export): this plus rows / RECORD_FALLBACK_ROWS_PER_SEC. */
export const RECORD_FALLBACK_OVERHEAD_SECONDS = 3;
export const RECORD_FALLBACK_ROWS_PER_SEC = 2_000;
const UNKNOWN_KIND = { size: 8, samplesPerSec: 100 };

export interface RecordThroughputSample {
  /** `text:<candidate>` or `tabular:<candidate>`. */
  backboneId: string;
  /** The size feature (text: classes; tabular: feature columns). */
  inputSize: number;
  /** Training samples x epochs per second of the candidate's fit. */
  samplesPerSec: number;
  /** The job's wall-clock seconds outside its candidates' fits (recorded on every row of the job). */
  overheadSeconds: number;
  overheadUnits: number;
  /** Text candidates: epochs the measured fit ran (early stopping) and its cap; null otherwise. */
  epochsRun?: number | null;
  epochsCap?: number | null;
  jobId: string;
}

export interface RecordEstimateInput {
  task: RecordTask;
  /**
   * Candidates (trials) the job trains, in order; `kind` picks the fallback (text: linear|cnn; tabular:
   * the name); `measuredAs` names the measured candidate that prices it (default: its name).
   */
  candidates: { name: string; kind: string; epochs: number; measuredAs?: string }[];
  /** Text: number of classes; tabular: number of feature columns. */
  size: number;
  trainSamples: number;
  /** All rows the job reads (train + validation + test). */
  totalRows: number;
  budgetMinutes: number;
  /** Rows measured on this worker kind for this task, newest first. */
  samples: RecordThroughputSample[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Speed of one candidate: the median of its newest (at most 20) measurements at the nearest measured
 * size, scaled linearly by size (a linear model's and a tree's cost per sample grow with classes /
 * features); else the fallback table, scaled the same way.
 */
export function candidateSpeed(
  input: Pick<RecordEstimateInput, 'task' | 'size' | 'samples'>,
  candidate: { name: string; kind: string; measuredAs?: string },
): { samplesPerSec: number; source: 'measured' | 'table'; measurements: number } {
  const key = recordThroughputKey(input.task, candidate.measuredAs ?? candidate.name);
  const size = Math.max(1, input.size);
  const mine = input.samples.filter((s) => s.backboneId === key && s.samplesPerSec > 0);
  if (mine.length > 0) {
    const nearest = mine.reduce((best, s) =>
      Math.abs(s.inputSize - size) < Math.abs(best.inputSize - size) ? s : best,
    ).inputSize;
    const atSize = mine.filter((s) => s.inputSize === nearest).slice(0, 20);
    return {
      samplesPerSec: (median(atSize.map((s) => s.samplesPerSec)) * Math.max(1, nearest)) / size,
      source: 'measured',
      measurements: atSize.length,
    };
  }
  const t = RECORD_FALLBACK_THROUGHPUT[`${input.task}:${candidate.kind}`] ?? UNKNOWN_KIND;
  return { samplesPerSec: (t.samplesPerSec * t.size) / size, source: 'table', measurements: 0 };
}

/**
 * Epochs a candidate capped at `cap` is expected to run: when every one of its newest (at most 20)
 * measured fits that say so stopped before its own cap (early stopping), the median of the epochs they
 * ran (at most `cap`); else `cap` (no evidence it stops sooner).
 */
export function expectedEpochs(
  samples: RecordThroughputSample[],
  key: string,
  cap: number,
): { epochs: number; fromMeasurements: boolean } {
  const known = samples
    .filter((s) => s.backboneId === key && s.epochsRun != null && s.epochsCap != null)
    .slice(0, 20);
  if (known.length === 0 || known.some((s) => s.epochsRun! >= s.epochsCap!))
    return { epochs: cap, fromMeasurements: false };
  return { epochs: Math.min(cap, median(known.map((s) => s.epochsRun!))), fromMeasurements: true };
}

/**
 * The estimate of a text or tabular job: every candidate of its mode fitted for its expected epochs
 * (expectedEpochs: text candidates stop early), plus the time outside the fits that jobs of this task
 * measured here (median of the newest 20), else the fallback. Such jobs register their one model at
 * the end, so the first model comes with the job's end.
 */
export function estimateRecordTraining(input: RecordEstimateInput): TrainingEstimate {
  const phases: PhaseEstimate[] = input.candidates.map((c) => {
    const speed = candidateSpeed(input, c);
    const epochs = expectedEpochs(
      input.samples,
      recordThroughputKey(input.task, c.measuredAs ?? c.name),
      c.epochs,
    ).epochs;
    return {
      name: c.name,
      epochs,
      backbone: 'trainable' as const,
      ...speed,
      seconds: (epochs * input.trainSamples) / Math.max(1e-6, speed.samplesPerSec),
    };
  });
  // One overhead value per measured job (each of its rows carries it).
  const measured = input.samples.filter((s) => s.overheadUnits > 0);
  const perJob = new Map<string, number>();
  for (const s of measured) if (!perJob.has(s.jobId)) perJob.set(s.jobId, s.overheadSeconds);
  const overhead =
    measured.length > 0
      ? { secondsPerUnit: median([...perJob.values()].slice(0, 20)), source: 'measured' as const }
      : {
          secondsPerUnit: RECORD_FALLBACK_OVERHEAD_SECONDS + input.totalRows / RECORD_FALLBACK_ROWS_PER_SEC,
          source: 'table' as const,
        };
  const fits = phases.reduce((a, p) => a + p.seconds, 0);
  const fullSeconds = overhead.secondsPerUnit + fits;
  const budgetSeconds = input.budgetMinutes * 60;
  const limitedByBudget = fullSeconds > budgetSeconds;
  // At the deadline the job stops fitting, keeps the best candidate so far, evaluates and exports it.
  const expected = limitedByBudget ? budgetSeconds + overhead.secondsPerUnit : fullSeconds;
  return {
    expectedMinutes: round1(expected / 60),
    expectedSeconds: Math.round(expected),
    firstModelSeconds: Math.round(expected),
    firstModelMinutes: round1(expected / 60),
    computeMinutes: round1(expected / 60),
    limitedByBudget,
    phases: phases.map((p) => ({
      ...p,
      samplesPerSec: round1(p.samplesPerSec),
      seconds: Math.round(p.seconds * 10) / 10,
    })),
    overhead: { ...overhead, secondsPerUnit: Math.round(overhead.secondsPerUnit * 1000) / 1000 },
    setupSeconds: 0,
  };
}
