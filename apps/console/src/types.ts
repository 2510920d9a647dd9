// API answers as the console reads them: the generated SDK's types, and the shapes of the JSON
// documents (reports) the OpenAPI document leaves as plain objects.
import type { Schemas } from '@modelsmith/sdk/browser';

export type Version = Schemas['DatasetVersionDto'];
export type Job = Schemas['JobDto'];
export type JobEvent = Schemas['JobEventDto'];
export type Trial = Schemas['TrialDto'];

export type Dataset = Schemas['DatasetDto'] & { versions?: Version[] };

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

export interface ClassStats {
  name: string;
  index: number;
  count: number;
  splits: Record<string, number>;
}

export interface IngestionReport {
  kind: 'image' | 'text' | 'tabular';
  format: string;
  source: { name: string; bytes: number };
  totals: { entries: number; samples: number; skipped: number; duplicates: number; labelConflicts: number };
  classes: ClassStats[];
  splits: Record<string, number>;
  imbalanceRatio: number | null;
  images?: { cache: { width: number; height: number; channels: number } };
  skipped: { reason: string; message: string; path?: string; line?: number }[];
  skippedByReason: Record<string, number>;
  warnings: { code: string; message: string; subject?: string }[];
  truncatedLists: boolean;
}

export type Preview = Schemas['VersionPreviewDto'];
export type Backbone = Schemas['BackboneDto'];

export interface Estimate {
  /** null for text and tabular jobs. */
  backbone: string | null;
  mode: string;
  budgetMinutes: number;
  expectedMinutes: number;
  expectedSeconds: number;
  firstModelSeconds: number;
  computeMinutes: number;
  limitedByBudget: boolean;
  samples: { train: number; validation: number; test: number };
  quota: { usedMinutes: number; limitMinutes: number; remainingMinutes: number; fits: boolean };
  note?: string;
}

export interface ClassReport {
  index: number;
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
  averagePrecision: number | null;
  suggestedThreshold: { threshold: number; precision: number; recall: number; f1: number } | null;
}

export interface EvaluationReport {
  numSamples: number;
  numClasses: number;
  classNames: string[];
  accuracy: number;
  topK?: { k: number; accuracy: number }[];
  logLoss?: number;
  perClass?: ClassReport[];
  macro?: { precision: number; recall: number; f1: number };
  confusionMatrix?: number[][];
  prCurves?: {
    index: number;
    name: string;
    points: { threshold: number; precision: number; recall: number }[];
  }[];
  calibration?: {
    ece: number;
    mce: number;
    bins: { lower: number; upper: number; count: number; confidence: number; accuracy: number }[];
  };
  modelSize?: { params: number; bytes: number };
  latency?: { p50Ms?: number; meanMs?: number };
}

export interface EpochRecord {
  phase?: string;
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
}

export type ModelSummary = Schemas['ModelSummaryDto'];

/** A model as GET /v1/models/{id} answers it, its report and curves read with their documented shapes. */
export type Model = Omit<Schemas['ModelDetailDto'], 'metrics' | 'report' | 'trainingCurves'> & {
  metrics: Record<string, number | null> | null;
  report?: (EvaluationReport & Record<string, unknown>) | null;
  trainingCurves?: EpochRecord[] | null;
};

export type Deployment = Schemas['DeploymentViewDto'];
