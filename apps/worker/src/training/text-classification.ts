import type { TextModelChoice, TrainingMode } from '@modelsmith/contracts';
import { TEXT_SEARCH_EXTRA_TRIALS } from '@modelsmith/ml/catalogue';
import { readTextSplit, type RecordShardIndex, type ShardSource } from '@modelsmith/datasets';
import {
  buildReport,
  DEFAULT_TEXT_CANDIDATES,
  TEXT_CNN_CANDIDATE,
  exportTextClassifier,
  loadTextClassifier,
  sampleAt,
  trainTextClassifier,
  type ArtifactReader,
  type ArtifactWriter,
  type EvaluationReport,
  type LinearTextCandidate,
  type SearchSpace,
  type TextCandidate,
  type TextEpochLog,
  type TextManifest,
  type TextModel,
  type TextSplit,
} from '@modelsmith/ml';
import {
  runCandidateTrials,
  medianCost,
  type CandidateParams,
  type CandidateSearchResult,
} from './search/candidate-trials';
import type { TrialLedger, TrialRank } from './search/search-runner';

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

/** Linear configurations sampled after the default candidates in mode 'auto' (budget.maxTrials caps the total; estimates count them too). */
export { TEXT_SEARCH_EXTRA_TRIALS };

/**
 * The text task's search space for sampled linear trials: L2 strength, SGD step size, longest word
 * n-gram, character n-gram range inside words, class weighting.
 */
export const TEXT_LINEAR_SPACE: SearchSpace = {
  l2: { kind: 'loguniform', min: 1e-7, max: 1e-4 },
  learningRate: { kind: 'loguniform', min: 0.05, max: 0.5 },
  wordNgrams: { kind: 'choice', values: [1, 2, 3] },
  charNgrams: { kind: 'choice', values: ['none', '2-4', '2-5', '3-5'] },
  classWeight: { kind: 'choice', values: ['balanced', 'none'] },
};

/** Text trials are ranked (and the model chosen) by validation macro-F1, as trainTextClassifier picks. */
export const TEXT_RANK: TrialRank = { metric: 'validationMacroF1', higherIsBetter: true };

/**
 * The trials of a text job in order: textRecipe's candidates, and in mode 'auto' (unless only the CNN
 * is asked for) TEXT_SEARCH_EXTRA_TRIALS linear configurations drawn from TEXT_LINEAR_SPACE (seeded)
 * after the default linear ones and before the CNN, so that a budget that ends early keeps a linear
 * model. Deterministic for (mode, epochs, textModel, seed): a restarted job plans the same trials.
 */
export function textSearchPlan(
  mode: TrainingMode,
  epochs: number | undefined,
  textModel: TextModelChoice = 'auto',
  seed = 0,
): { candidates: TextCandidate[]; maxEpochs: number } {
  const recipe = textRecipe(mode, epochs, textModel);
  if (mode !== 'auto' || textModel === 'cnn') return recipe;
  const base = DEFAULT_TEXT_CANDIDATES.find((c): c is LinearTextCandidate => c.kind !== 'cnn');
  if (!base) return recipe;
  const sampled: TextCandidate[] = Array.from({ length: TEXT_SEARCH_EXTRA_TRIALS }, (_, k) => {
    const p = sampleAt(TEXT_LINEAR_SPACE, seed, k);
    const chars = String(p.charNgrams);
    const [lo, hi] = chars === 'none' ? [0, 0] : chars.split('-').map(Number);
    return {
      ...base,
      name: `sampled-${k + 1}/${String(p.classWeight)}`,
      features: { ...base.features, wordNgrams: Number(p.wordNgrams), charNgrams: [lo, hi] },
      classWeight: p.classWeight === 'none' ? 'none' : 'balanced',
      learningRate: Number(p.learningRate),
      l2: Number(p.l2),
    };
  });
  const linear = recipe.candidates.filter((c) => c.kind !== 'cnn');
  const cnn = recipe.candidates.filter((c) => c.kind === 'cnn');
  return { candidates: [...linear, ...sampled, ...cnn], maxEpochs: recipe.maxEpochs };
}

/** A candidate's configuration as a trial row records it. */
export function textTrialParams(c: TextCandidate, maxEpochs: number): CandidateParams {
  if (c.kind === 'cnn')
    return {
      family: 'text-cnn',
      candidate: c.name,
      classWeight: c.classWeight,
      learningRate: c.learningRate,
      embeddingLearningRate: c.embeddingLearningRate,
      dropout: c.dropout,
      batchSize: c.batchSize,
      embeddingDim: c.cnn.embeddingDim,
      filters: c.cnn.filters,
      maxEpochs: Math.min(maxEpochs, c.maxEpochs ?? maxEpochs),
    };
  return {
    family: 'text-linear',
    candidate: c.name,
    classWeight: c.classWeight,
    learningRate: c.learningRate,
    l2: c.l2,
    wordNgrams: c.features.wordNgrams,
    charNgrams: c.features.charNgrams[1] > 0 ? c.features.charNgrams.join('-') : 'none',
    ...(c.members !== undefined && c.members > 1 ? { members: c.members } : {}),
    maxEpochs,
  };
}

export interface TextSearchInput {
  index: RecordShardIndex;
  shards: ShardSource;
  writer: ArtifactWriter;
  reader: ArtifactReader;
  ledger: TrialLedger;
  /** Where trial `i` exports its model. */
  trialPrefix(i: number): string;
  /** Deletes trial `i`'s model (every one but the chosen trial's, when the search ends). */
  removeTrialModel?(i: number): Promise<void>;
  /** The job's model (the chosen trial's, evaluated on the test split). */
  modelPrefix: string;
  mode: TrainingMode;
  textModel?: TextModelChoice;
  epochs?: number;
  /** Most trials (budget.maxTrials); default: every planned one. */
  maxTrials?: number;
  seed: number;
  /** Date.now() time at which training stops and keeps the best model so far. */
  deadline?: number;
  signal: AbortSignal;
  onEpoch?: (
    log: TextEpochLog & { trial: number },
    of: { candidates: number; maxEpochs: number },
  ) => Promise<void>;
  onTrial?: Parameters<typeof runCandidateTrials>[0]['onTrial'];
}

export interface TextSearchResult {
  search: CandidateSearchResult;
  /** The chosen trial's candidate. */
  candidate: TextCandidate;
  classifier: TextModel;
  report: EvaluationReport;
  manifest: TextManifest;
  samples: { train: number; validation: number; test: number };
}

/**
 * Text classification for a TRAIN job: reads the version's train/validation/test splits, runs each
 * planned candidate as a trial (libs/ml trainTextClassifier on that candidate alone, scored on
 * validation, its model exported under the trial's prefix and recorded in the ledger), chooses the
 * trial best on validation, evaluates its model once on the test split with the platform's
 * classification report, and exports it (text-model.json, text-weights.bin, manifest.json) under the
 * model prefix. A restarted job never re-runs a finished trial.
 */
export async function searchTextClassification(input: TextSearchInput): Promise<TextSearchResult> {
  const { index, shards } = input;
  const [train, validation, test] = await Promise.all(
    (['train', 'validation', 'test'] as const).map((s) => readTextSplit(shards, index, s)),
  );
  const plan = textSearchPlan(input.mode, input.epochs, input.textModel, input.seed);
  const of = { candidates: plan.candidates.length, maxEpochs: plan.maxEpochs };
  const search = await runCandidateTrials({
    ledger: input.ledger,
    planAt: (slot) => {
      const c = plan.candidates[slot];
      return c ? textTrialParams(c, plan.maxEpochs) : undefined;
    },
    maxTrials: input.maxTrials ?? plan.candidates.length,
    ...(input.deadline !== undefined ? { deadline: input.deadline } : {}),
    estimateSeconds: (trials, params) => medianCost(trials, params, 'family'),
    rank: TEXT_RANK,
    ...(input.removeTrialModel ? { removeTrialModel: input.removeTrialModel } : {}),
    signal: input.signal,
    run: async (i, params, onCurve) => {
      const candidate = plan.candidates[Number(params.config)];
      if (!candidate) throw new Error(`trial ${i}: no planned candidate ${String(params.config)}`);
      const r = await trainOne(
        train,
        validation,
        index.labels,
        candidate,
        plan.maxEpochs,
        input,
        async (log) => {
          await onCurve({
            phase: log.candidate,
            epoch: log.epoch,
            loss: log.loss,
            val_accuracy: log.valAccuracy,
            val_macro_f1: log.valMacroF1,
          });
          await input.onEpoch?.({ ...log, trial: i }, of);
        },
      );
      const prefix = input.trialPrefix(i);
      await exportTextClassifier(r.classifier, input.writer, prefix, {
        metrics: { validationAccuracy: r.valAccuracy, validationMacroF1: r.valMacroF1 },
      });
      const t = r.trials[0];
      return {
        metrics: {
          validationAccuracy: r.valAccuracy,
          validationMacroF1: r.valMacroF1,
          bestEpoch: r.bestEpoch + 1,
          epochs: t?.epochs ?? r.bestEpoch + 1,
          features: t?.features ?? null,
          trainSeconds: t?.seconds ?? r.seconds,
          ...(r.stoppedByDeadline ? { stopped: 'budget' } : {}),
        },
        artifactPrefix: prefix,
      };
    },
    ...(input.onTrial ? { onTrial: input.onTrial } : {}),
  });
  const winner = search.best;
  const candidate = plan.candidates[Number(winner.params.config)];
  const { classifier } = await loadTextClassifier(input.reader, winner.artifactPrefix!);
  // Without a test split, the report is on validation (said so by numSamples and the job's result).
  const held = test.texts.length > 0 ? test : validation;
  const report = evaluateText(classifier, held, index.labels);
  const manifest = await exportTextClassifier(classifier, input.writer, input.modelPrefix, {
    metrics: {
      accuracy: report.accuracy,
      macroF1: report.macro.f1,
      validationAccuracy: Number(winner.metrics?.validationAccuracy ?? 0),
      validationMacroF1: Number(winner.metrics?.validationMacroF1 ?? 0),
    },
  });
  return {
    search,
    candidate,
    classifier,
    report,
    manifest,
    samples: { train: train.texts.length, validation: validation.texts.length, test: test.texts.length },
  };
}

function trainOne(
  train: TextSplit,
  validation: TextSplit,
  labels: readonly string[],
  candidate: TextCandidate,
  maxEpochs: number,
  input: TextSearchInput,
  onEpoch: (log: TextEpochLog) => Promise<void>,
) {
  return trainTextClassifier(train, validation, {
    classNames: labels,
    candidates: [candidate],
    maxEpochs,
    seed: input.seed,
    deadline: input.deadline,
    signal: input.signal,
    onEpoch,
  });
}

/** The platform's classification report of a text model on `held`, with its size and ms per text. */
function evaluateText(classifier: TextModel, held: TextSplit, labels: string[]): EvaluationReport {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const probs = classifier.predictProba(held.texts);
  const cpu = process.cpuUsage(cpu0);
  const msPerText = held.texts.length > 0 ? (performance.now() - started) / held.texts.length : 0;
  const cpuMsPerText = held.texts.length > 0 ? (cpu.user + cpu.system) / 1000 / held.texts.length : 0;
  const report = buildReport(
    { numClasses: labels.length, probs, labels: held.labels },
    { classNames: labels },
  );
  const params = classifier.params;
  report.modelSize = { params, trainableParams: params, nonTrainableParams: 0, bytes: classifier.bytes };
  report.latency = {
    batchSize: held.texts.length,
    runs: 1,
    msPerImage: msPerText,
    cpuMsPerImage: cpuMsPerText,
    msPerBatchMean: msPerText * held.texts.length,
    msPerBatchP50: msPerText * held.texts.length,
    msPerBatchP95: msPerText * held.texts.length,
    backend: 'js',
  };
  return report;
}
