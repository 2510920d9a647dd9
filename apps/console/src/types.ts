// Shapes of API answers the OpenAPI document leaves untyped (plain objects), as the console reads them.
import type { Schemas } from '@modelsmith/sdk/browser';

export type Version = Schemas['DatasetVersionDto'];
export type Job = Schemas['JobDto'];
export type JobEvent = Schemas['JobEventDto'];
export type Trial = Schemas['TrialDto'];

export interface Dataset {
  id: string;
  name: string;
  task: string;
  description?: string | null;
  createdAt: string;
  latestVersion?: Version | null;
  versions?: Version[];
}

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

export interface Preview {
  classes: { name: string; count: number; samples: string[] }[];
}

export interface Backbone {
  id: string;
  displayName: string;
  input: { height: number; width: number; channels: number };
  pretrained: boolean;
}

export interface Estimate {
  backbone: string;
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

export interface Model {
  id: string;
  name: string | null;
  task: string;
  backbone: string | null;
  metrics: Record<string, number | null> | null;
  sizeBytes: number | null;
  jobId: string | null;
  datasetVersionId: string | null;
  createdAt: string;
  report?: (EvaluationReport & Record<string, unknown>) | null;
  trainingCurves?: EpochRecord[] | null;
}

export interface Deployment {
  id: string;
  name?: string | null;
  status: string;
  modelId: string;
  predictUrl: string;
  createdAt: string;
}
