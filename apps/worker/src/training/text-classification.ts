import type { TextModelChoice, TrainingMode } from '@modelsmith/contracts';
import { readTextSplit, type RecordShardIndex, type ShardSource } from '@modelsmith/datasets';
import {
  buildReport,
  DEFAULT_TEXT_CANDIDATES,
  TEXT_CNN_CANDIDATE,
  exportTextClassifier,
  trainTextClassifier,
  type ArtifactWriter,
  type EvaluationReport,
  type TextCandidate,
  type TextEpochLog,
  type TextManifest,
  type TextTrainingResult,
} from '@modelsmith/ml';

/**
 * Candidates and epochs per mode. `fast` tries the two balanced linear candidates; the others all
 * four linear candidates and then the CNN (in `auto`, the default, as in `balanced`: the candidates are
 * the text task's search, on validation; the linear ones come first, so a budget that ends during the
 * CNN keeps a linear model). `textModel` narrows the families: 'linear' drops the CNN, 'cnn' keeps only
 * it (in every mode). The CNN runs at most 10 epochs (`TEXT_CNN_CANDIDATE.maxEpochs`).
 */
export function textRecipe(
  mode: TrainingMode,
  epochs?: number,
  textModel: TextModelChoice = 'auto',
): { candidates: TextCandidate[]; maxEpochs: number } {
  const linear = [...DEFAULT_TEXT_CANDIDATES];
  const pick = (modeCandidates: TextCandidate[]): TextCandidate[] => {
    if (textModel === 'cnn') return [TEXT_CNN_CANDIDATE];
    if (textModel === 'linear') return modeCandidates.filter((c) => c.kind !== 'cnn');
    return modeCandidates;
  };
  switch (mode) {
    case 'fast':
      return {
        candidates: pick(linear.filter((c) => c.classWeight === 'balanced')),
        maxEpochs: epochs ?? 10,
      };
    case 'auto':
    case 'balanced':
      return { candidates: pick([...linear, TEXT_CNN_CANDIDATE]), maxEpochs: epochs ?? 20 };
    case 'best':
      return { candidates: pick([...linear, TEXT_CNN_CANDIDATE]), maxEpochs: epochs ?? 40 };
  }
}

export interface TextRunInput {
  index: RecordShardIndex;
  shards: ShardSource;
  writer: ArtifactWriter;
  modelPrefix: string;
  mode: TrainingMode;
  textModel?: TextModelChoice;
  epochs?: number;
  seed: number;
  /** Date.now() time at which training stops and keeps the best model so far. */
  deadline?: number;
  signal: AbortSignal;
  onEpoch?: (log: TextEpochLog, of: { candidates: number; maxEpochs: number }) => Promise<void>;
}

export interface TextRunResult {
  training: TextTrainingResult;
  report: EvaluationReport;
  manifest: TextManifest;
  samples: { train: number; validation: number; test: number };
}

/**
 * Text classification for a TRAIN job: reads the version's train/validation/test splits, searches
 * the candidates on validation (libs/ml trainTextClassifier), evaluates the chosen model once on the
 * test split with the platform's classification report, and exports it (text-model.json,
 * text-weights.bin, manifest.json) under the model prefix.
 */
export async function runTextClassification(input: TextRunInput): Promise<TextRunResult> {
  const { index, shards } = input;
  const [train, validation, test] = await Promise.all(
    (['train', 'validation', 'test'] as const).map((s) => readTextSplit(shards, index, s)),
  );
  const recipe = textRecipe(input.mode, input.epochs, input.textModel);
  const training = await trainTextClassifier(train, validation, {
    classNames: index.labels,
    candidates: recipe.candidates,
    maxEpochs: recipe.maxEpochs,
    seed: input.seed,
    deadline: input.deadline,
    signal: input.signal,
    onEpoch: (log) =>
      input.onEpoch?.(log, { candidates: recipe.candidates.length, maxEpochs: recipe.maxEpochs }),
  });
  const classifier = training.classifier;
  // Without a test split, the report is on validation (said so by numSamples and the job's result).
  const held = test.texts.length > 0 ? test : validation;
  const started = performance.now();
  const probs = classifier.predictProba(held.texts);
  const msPerText = held.texts.length > 0 ? (performance.now() - started) / held.texts.length : 0;
  const report = buildReport(
    { numClasses: index.labels.length, probs, labels: held.labels },
    { classNames: index.labels },
  );
  const params = classifier.params;
  report.modelSize = { params, trainableParams: params, nonTrainableParams: 0, bytes: classifier.bytes };
  report.latency = {
    batchSize: held.texts.length,
    runs: 1,
    msPerImage: msPerText,
    msPerBatchMean: msPerText * held.texts.length,
    msPerBatchP50: msPerText * held.texts.length,
    msPerBatchP95: msPerText * held.texts.length,
    backend: 'js',
  };
  const manifest = await exportTextClassifier(classifier, input.writer, input.modelPrefix, {
    metrics: { accuracy: report.accuracy, macroF1: report.macro.f1 },
  });
  return {
    training,
    report,
    manifest,
    samples: { train: train.texts.length, validation: validation.texts.length, test: test.texts.length },
  };
}
