import * as tf from '@tensorflow/tfjs';
import type { ImageShardIndex, ShardSource } from '@modelsmith/datasets';
import {
  concatDynamics,
  type CrossFitScores,
  type DynamicsValues,
  buildClassifier,
  multiLayerFeatureExtractor,
  MULTI_LAYER_FEATURES,
  currentBackend,
  ReplicaPool,
  collectViewPredictions,
  collectPredictions,
  argmaxRows,
  type Predictions,
  evaluateModel,
  FEATURE_HEAD_VIEWS,
  exportModel,
  reportOf,
  loadExportedModel,
  type ArtifactReader,
  imageAugmenter,
  train,
  type ArtifactWriter,
  type BackboneSpec,
  type CheckpointStore,
  type EpochLog,
  type EvaluationReport,
  type ExportManifest,
  type ModelZoo,
  type LoadedBackbone,
  type TrainProgress,
  NonFiniteLossError,
  TrainOutOfMemoryError,
  type TrainError,
  type DELTARegularizer,
  type WeightRegularizer,
  type TestTimeAveraging,
} from '@modelsmith/ml';
import { PermanentJobError } from '@modelsmith/jobs';
import type { Recipe, TrainingPhase } from './recipe';
import { shardEpochs, splitCount } from './shard-batches';
import { normLimeReport } from './normlime-report';
import { heldOutScores } from './held-out-scores';
import { buildTransferRegularizer } from './transfer-regularizer';
import { FEATURE_HEAD_EPOCHS, trainHeadOnFeatures, type HeadOnFeaturesResult } from './frozen-head';
import { StageClock, type StageTime } from './stage-clock';
import { chooseTestTimeViews, testTimeCandidates, type TestTimeChoice } from './test-time-views';

export interface PipelineInput {
  index: ImageShardIndex;
  shards: ShardSource;
  zoo: ModelZoo;
  spec: BackboneSpec;
  recipe: Recipe;
  checkpoints: CheckpointStore;
  writer: ArtifactWriter;
  /** Where the exported model goes (overwritten when a better one is ready). */
  modelPrefix: string;
  /** How raw images are fitted to the input size before normalization (the dataset's cache policy). */
  fit: 'cover' | 'contain' | 'fill';
  /**
   * The split each exported model is evaluated on: 'test' (default; the held-out report), or
   * 'validation' for search trials, which are compared on validation and never see the test split.
   */
  evaluateOn?: 'test' | 'validation';
  /**
   * Whether the final model's report gets NormLIME, and a pretrained backbone's run the held-out label
   * scores of its label-quality report (default true). Search trials leave both out: each costs more
   * CPU than a one-epoch head trial's training (the held-out scores a pass over the train split before
   * the first step), and neither the search's final report nor its model carries a trial's.
   */
  interpret?: boolean;
  /** Prefix of this run's checkpoint keys (a search trial's own, so trials never share one). */
  checkpointKeyPrefix?: string;
  /**
   * Threads the run trains on (TRAIN_THREADS): above 1, on the wasm or cpu backend, each batch is
   * split between this thread and `threads - 1` replica threads (ReplicaPool). Default 1.
   */
  threads?: number;
  /** Whether the replica threads may use the native BLAS addon (ML_NATIVE_BLAS). */
  nativeBlas?: boolean;
  /**
   * Start from the weights of the model exported at `prefix` (a search's continuation trial: same
   * backbone, input and head) instead of the backbone's initial ones.
   */
  warmStart?: { reader: ArtifactReader; prefix: string };
}

export interface PipelineProgress {
  phase: string;
  phaseIndex: number;
  phases: number;
  /** 0..100 over the whole run. */
  percent: number;
  etaSeconds: number | null;
  train: TrainProgress;
}

export interface PipelineModel {
  phase: string;
  manifest: ExportManifest;
  report: EvaluationReport;
  /** True for the model of the last phase (or of the phase the run stopped in). */
  final: boolean;
  /**
   * A head trained on frozen features (trainHeadOnFeatures), when the split has validation images:
   * whether its manifest declares test-time averaging, chosen on validation (chooseTestTimeViews), and
   * the validation scores with and without it. The report (and the manifest's metrics) are the
   * chosen model's.
   */
  tta?: TestTimeChoice;
  /**
   * When the report is on the validation split: per validation image (the split's order) whether the
   * model's prediction is right, and a key of the labels in that order (the search compares trials
   * image by image with it: search/model-choice.ts).
   */
  validation?: { correct: Uint8Array; labels: Int32Array };
  /**
   * Training dynamics of the train split over every epoch trained so far (all phases); sample id i is
   * the i-th train sample of the index in index order.
   */
  dynamics?: DynamicsValues;
  /**
   * Held-out label scores of the train split (same sample ids), final model only: the label-quality
   * report suspects a sample when its AUM and these agree (apps/worker/src/training/held-out-scores.ts).
   */
  heldOut?: CrossFitScores;
}

export interface PipelineHooks {
  /** Aborted on cancellation, shutdown, or when the budget runs out. */
  signal: AbortSignal;
  /** True when an abort means "stop and keep the best model so far" (budget), false for cancel/shutdown. */
  keepModelOnStop(reason: unknown): boolean;
  onProgress(p: PipelineProgress): Promise<void>;
  onEpoch(phase: string, log: EpochLog): Promise<void>;
  /**
   * A phase's epochs at once, in order, when the phase has ended (its epochs are reported then):
   * when given, called instead of onEpoch for each, so a hook can record them in one write.
   */
  onEpochs?(phase: string, logs: EpochLog[]): Promise<void>;
  /** A usable model was exported (after every phase: the first as early as possible). */
  onModel(m: PipelineModel): Promise<void>;
  /** Something the user should know that is not progress: a step fitted to memory, a phase that failed. */
  onNotice?(n: PipelineNotice): Promise<void>;
}

export interface PipelineNotice {
  kind: 'memory' | 'phase-failed' | 'threads';
  phase: string;
  message: string;
  data: Record<string, unknown>;
}

/** Why a later phase stopped while the model of an earlier one was kept. */
export interface PhaseFailure {
  phase: string;
  code: string;
  message: string;
}

export interface PipelineResult {
  /** 'phase-failed': a later phase failed for good (see `failedPhase`); `model` is the earlier phase's. */
  status: 'completed' | 'stopped-by-budget' | 'phase-failed';
  model: PipelineModel;
  history: Array<EpochLog & { phase: string }>;
  /** Where this run picked up from a checkpoint left by an earlier (killed or interrupted) attempt. */
  resumedFrom?: { phase: string; epoch: number; step: number; globalStep: number };
  failedPhase?: PhaseFailure;
  /**
   * Where the run's time went (StageClock): `load` (backbone and classifier), `features` and `head`
   * (a head on cached features: the backbone passes, then the head's epochs), `train` (phases trained
   * through the backbone), `evaluate` (validation or test predictions, report, latency), `export`.
   */
  stages?: Record<string, StageTime>;
}

/**
 * Failures that a retry of the same phase would repeat: out of memory even at the smallest
 * micro-batch, a diverging loss. Other errors (storage, shutdown) are transient and propagate.
 */
function deterministicFailure(error: unknown): TrainError | undefined {
  return error instanceof TrainOutOfMemoryError || error instanceof NonFiniteLossError ? error : undefined;
}

const MiB = 2 ** 20;

function paramGroups(phase: TrainingPhase, backboneLayerNames: string[]) {
  if (phase.backbone === 'frozen' || phase.backboneLrScale === 1) return undefined;
  return [{ name: 'backbone', layers: backboneLayerNames, lrScale: phase.backboneLrScale }];
}

/**
 * Smallest side (px) of the images the held-out label scores embed: smaller inputs of a resizable
 * backbone are resized up to it. Measured (bench/mislabel-rotate.ts, docs/interpretability.md): on
 * photos stored at 64 px, MobileNetV2 features of the images resized to 128 px rank injected label
 * flips better (AUROC +0.013 on the tuning settings) than at 64 px, at 4 times the inference CPU
 * (0.020 vs 0.005 s per sample for both views); resizing 128-px images to 224 did not help.
 */
export const HELD_OUT_MIN_SIDE = 128;

/**
 * The input shape of the held-out label scores' pass: for the backbones whose multi-layer features it
 * uses (MULTI_LAYER_FEATURES: MobileNetV2, where it was measured), `input` scaled up (aspect kept,
 * within the backbone's resizable range) so that its smaller side is HELD_OUT_MIN_SIDE; `input` itself
 * when it is that large already, for other backbones, or when the backbone takes one size only.
 */
export function heldOutInput(
  spec: Pick<BackboneSpec, 'id' | 'resizable'>,
  input: { height: number; width: number; channels: 1 | 3 },
): { height: number; width: number; channels: 1 | 3 } {
  const r = spec.resizable;
  const side = Math.min(input.height, input.width);
  if (!r || !(spec.id in MULTI_LAYER_FEATURES) || side >= HELD_OUT_MIN_SIDE) return input;
  const scale = HELD_OUT_MIN_SIDE / side;
  const clamp = (v: number) => Math.min(r.maxSize, Math.max(r.minSize, Math.round(v * scale)));
  return { height: clamp(input.height), width: clamp(input.width), channels: input.channels };
}

/**
 * Held-out label scores of the train split (heldOutScores) on the features of `input.spec`'s
 * pretrained weights, before any training has moved them (so no sample's possibly wrong label has
 * shaped its own features). Images smaller than HELD_OUT_MIN_SIDE are resized up for it, through a
 * copy of the backbone loaded at that size (heldOutInput); `loaded` is the backbone already loaded
 * at `recipe.input`, used as is when no resizing is needed. Undefined when the backbone is not
 * pretrained, the split is too small or too large, or `signal` aborted the pass.
 */
export async function backboneHeldOut(
  input: Pick<PipelineInput, 'zoo' | 'spec' | 'recipe' | 'index' | 'shards'>,
  signal: AbortSignal,
  loaded?: LoadedBackbone,
  form: 'full' | 'light' = 'full',
): Promise<CrossFitScores | undefined> {
  const { spec, recipe } = input;
  if (!spec.pretrained || signal.aborted) return undefined;
  const heldInput = heldOutInput(spec, recipe.input);
  const load = () =>
    input.zoo.load(spec.id, {
      inputSize: heldInput,
      seed: recipe.seed,
      ...(recipe.arch ? { arch: recipe.arch } : {}),
    });
  const held = loaded && heldInput === recipe.input ? loaded : await load();
  try {
    return await heldOutScores(
      multiLayerFeatureExtractor(held),
      input.shards,
      input.index,
      spec.normalization,
      heldInput,
      {
        batchSize: recipe.batchSize,
        seed: recipe.seed,
        signal,
        standardize: held.spec.id in MULTI_LAYER_FEATURES,
        form,
      },
    );
  } finally {
    if (held !== loaded) held.model.dispose();
  }
}

/**
 * Image classification by transfer learning (or from scratch for small-image backbones), phase by
 * phase, each phase resumable from its checkpoint. After each phase the model is evaluated on the
 * held-out test split and exported, so a usable model exists early and improves while budget remains.
 */
export async function runImageClassification(
  input: PipelineInput,
  hooks: PipelineHooks,
): Promise<PipelineResult> {
  const { index, recipe, spec } = input;
  const numClasses = index.labels.length;
  const clock = new StageClock();
  const { backbone, classifier } = await clock.time('load', async () => {
    const loaded = await input.zoo.load(spec.id, {
      inputSize: recipe.input,
      seed: recipe.seed,
      ...(recipe.arch ? { arch: recipe.arch } : {}),
    });
    const built = buildClassifier(loaded, {
      numClasses,
      seed: recipe.seed,
      freezeBackbone: recipe.phases[0]?.backbone === 'frozen',
      ...(recipe.headFeatures ? { features: recipe.headFeatures } : {}),
      ...(recipe.headDropout !== undefined ? { dropout: recipe.headDropout } : {}),
    });
    return { backbone: loaded, classifier: built };
  });
  const model = classifier.model;
  const regularizer = await buildTransferRegularizer(classifier, recipe.regularizer);
  const backboneNames = classifier.backboneLayers.map((l) => l.name);
  // After the regularizer took its anchor (the pretrained weights, as in the run it continues).
  if (input.warmStart) await warmStartFrom(model, input.warmStart);
  const norm = spec.normalization;
  const augment = imageAugmenter(recipe.augmentation, norm, { numClasses });
  const hasValidation = splitCount(index, 'validation') > 0;
  const trainData = shardEpochs(input.shards, index, 'train', recipe.batchSize, norm, recipe.input, true);
  const validation = hasValidation
    ? shardEpochs(input.shards, index, 'validation', recipe.batchSize, norm, recipe.input, false)
    : undefined;
  const testSplit =
    input.evaluateOn === 'validation' && hasValidation
      ? 'validation'
      : splitCount(index, 'test') > 0
        ? 'test'
        : hasValidation
          ? 'validation'
          : 'train';
  const test = shardEpochs(input.shards, index, testSplit, recipe.batchSize, norm, recipe.input, false);
  const totalEpochs = recipe.phases.reduce((s, p) => s + p.epochs, 0);
  // Not awaited: a head on cached features starts its feature pass on this thread while the replica
  // threads load the model, and they join it when ready; a phase trained through the backbone waits.
  const replicasReady = startReplicas(
    model,
    input,
    hooks,
    regularizer?.forward ? recipe.regularizer?.type : undefined,
  );
  let attentionDone = false;
  const history: PipelineResult['history'] = [];
  let latest: PipelineModel | undefined;
  let resumedFrom: PipelineResult['resumedFrom'];
  let epochsBefore = 0;
  const trainSamples = splitCount(index, 'train');
  const phaseDynamics: DynamicsValues[] = [];

  const interpretSplit = hasValidation ? 'validation' : 'train';
  /** NormLIME of the final model (not when the budget stopped the run: it would overrun it). */
  const interpret = async (): Promise<Record<string, unknown>> => {
    if (hooks.signal.aborted) return {};
    try {
      return {
        normLime: await normLimeReport(model, input.shards, index, interpretSplit, norm, recipe.input),
      };
    } catch (error) {
      return { normLimeError: error instanceof Error ? error.message : String(error) };
    }
  };

  /** Held-out label scores of the train split (pretrained backbones; computed before training). */
  let heldOut: CrossFitScores | undefined;

  /**
   * The test-time views a feature head's evaluation tries: the views its head trained on decide which
   * (the first trial's head: the image only).
   */
  const candidates = testTimeCandidates(
    recipe.input.channels,
    recipe.headImagesOnly ? ['image'] : FEATURE_HEAD_VIEWS,
  );

  /** Whether the weights now are a head trained on frozen features (the last phase trained was one). */
  let featureHead = false;
  /** That head's validation predictions from its cached vectors (trainHeadOnFeatures). */
  let headPredictions: HeadOnFeaturesResult['validationPredictions'];

  const evaluateAndExport = async (
    phase: string,
    final: boolean,
    withInterpretation = final,
  ): Promise<PipelineModel> => {
    // A feature head's test-time averaging is chosen on validation (never on the test split): one
    // pass per candidate view over it, the image's own predictions from the same passes.
    let choice: TestTimeChoice | undefined;
    let chosen: Awaited<ReturnType<typeof collectViewPredictions>>['plain'] | undefined;
    let tta: TestTimeAveraging | undefined;
    // The head's cached validation vectors give the image's own predictions without a backbone pass
    // (and the views' from one pass each, shared with the replica threads).
    const fromCache = featureHead && validation ? headPredictions : undefined;
    let validationPreds: Predictions | undefined;
    const evaluation = await clock.time('evaluate', async () => {
      let plainOnly: Awaited<ReturnType<typeof collectViewPredictions>>['plain'] | undefined;
      if (featureHead && validation && candidates.length > 0) {
        const v = fromCache
          ? await fromCache(candidates)
          : await collectViewPredictions(model, validation, {
              tta: { views: candidates, normalization: norm },
            });
        if (!v) throw hooks.signal.reason;
        choice = chooseTestTimeViews(candidates, v.plain, v.averaged);
        tta = choice.views.length > 0 ? { views: choice.views, normalization: norm } : undefined;
        chosen = tta ? v.averaged : v.plain;
      } else if (fromCache && testSplit === 'validation') {
        const v = await fromCache([]);
        if (!v) throw hooks.signal.reason;
        plainOnly = v.plain;
      }
      const reportOptions = {
        classNames: index.labels,
        latency: { runs: 10, warmup: 2 },
        ...(tta ? { tta } : {}),
      };
      if (testSplit !== 'validation') return await evaluateModel(model, test, reportOptions);
      const preds = chosen ?? plainOnly ?? (await collectPredictions(model, test, tta ? { tta } : {}));
      validationPreds = preds;
      return reportOf(model, preds, reportOptions);
    });
    const report = {
      ...evaluation,
      ...(withInterpretation && input.interpret !== false ? await interpret() : {}),
    };
    const manifest = await clock.time('export', () =>
      exportModel(model, input.writer, input.modelPrefix, {
        task: 'image-classification',
        input: {
          kind: 'image',
          ...recipe.input,
          fit: input.fit,
          // Upscaled (or downscaled) from the cache: serving resizes from the cache's size as training did.
          ...(index.height !== recipe.input.height || index.width !== recipe.input.width
            ? { trainedFrom: { height: index.height, width: index.width } }
            : {}),
        },
        normalization: norm,
        classNames: index.labels,
        ...(tta ? { tta: [...tta.views] } : {}),
        backboneId: spec.id,
        metrics: {
          accuracy: report.accuracy,
          macroF1: report.macro.f1,
          logLoss: report.logLoss,
          testSamples: report.numSamples,
        },
      }),
    );
    const dynamics = concatDynamics(phaseDynamics);
    const m: PipelineModel = {
      phase,
      manifest,
      report: {
        ...report,
        split: testSplit,
        ...(choice ? { testTimeAveraging: { ...choice, chosenOn: 'validation' } } : {}),
      } as EvaluationReport,
      final,
      ...(choice ? { tta: choice } : {}),
      ...(validationPreds ? { validation: rightOrWrong(validationPreds) } : {}),
      ...(dynamics ? { dynamics } : {}),
      ...(final && dynamics && heldOut ? { heldOut } : {}),
    };
    latest = m;
    await hooks.onModel(m);
    return m;
  };

  /** The run's checkpoint key for `name` (under the trial's prefix) and how often it is written. */
  const checkpointKey = (name: string) => `${input.checkpointKeyPrefix ?? ''}${name}`;
  const checkpointAs = (name: string) => ({
    store: input.checkpoints,
    key: checkpointKey(name),
    everySteps: 100,
    everyEpochs: 1,
    onCancel: true,
    resume: true,
  });

  try {
    // Held-out label scores (pretrained backbones), before training moves the backbone's features;
    // failures only cost the report.
    heldOut =
      input.interpret !== false && !hooks.signal.aborted
        ? await backboneHeldOut(input, hooks.signal, backbone).catch(() => undefined)
        : undefined;
    if (recipe.swa) {
      // A continuation: more epochs at a low constant rate from the warm start, the weights averaged.
      const phase = recipe.phases[recipe.phases.length - 1];
      if (!phase)
        throw new PermanentJobError('SWA_WITHOUT_PHASES', 'a continuation needs a phase to continue');
      if (phase.backbone === 'frozen') classifier.freezeBackbone();
      else classifier.unfreezeBackbone();
      assertSwaSafe(classifier);
      const averageKey = checkpointKey('swa-average');
      const average = new WeightAverage(model.weights.map((w) => w.read().shape));
      average.decode(await input.checkpoints.load(averageKey));
      let stopped = false;
      const replicas = await replicasReady;
      for (let k = 0; k < recipe.swa.epochs; k++) {
        const result = await train(model, {
          microBatch: 'auto',
          data: trainData,
          ...(augment ? { augment } : {}),
          ...(validation ? { validation } : {}),
          epochs: 1,
          optimizer: recipe.weightDecay
            ? { type: 'adamw', weightDecay: recipe.weightDecay }
            : { type: 'adam' },
          learningRate: phase.learningRate * recipe.swa.learningRateFactor,
          lrSchedule: { type: 'constant' },
          ...(paramGroups(phase, backboneNames) ? { paramGroups: paramGroups(phase, backboneNames) } : {}),
          labelSmoothing: recipe.labelSmoothing,
          ...(regularizer && !isDelta(regularizer) ? { regularizer } : {}),
          clipGradNorm: 5,
          seed: recipe.seed + 100 + k,
          checkpoint: checkpointAs(`swa-${k}`),
          signal: hooks.signal,
          ...(replicas ? { replicas } : {}),
          progressEverySteps: 10,
          onProgress: async (p) => {
            const done = k + (p.stepsPerEpoch ? p.step / p.stepsPerEpoch : 0);
            await hooks.onProgress({
              phase: 'swa',
              phaseIndex: 0,
              phases: 1,
              percent: Math.min(99, (done / recipe.swa!.epochs) * 100),
              etaSeconds: null,
              train: p,
            });
          },
        });
        for (const log of result.history) {
          history.push({ ...log, epoch: k, phase: 'swa' });
          await hooks.onEpoch('swa', { ...log, epoch: k });
        }
        if (result.status === 'cancelled') {
          const reason: unknown = hooks.signal.reason;
          if (!hooks.keepModelOnStop(reason) || average.count === 0) throw reason;
          stopped = true;
          break;
        }
        // Epoch k's weights join the average once (a resumed run finds them counted already).
        if (average.count <= k) {
          average.add(model.weights.map((w) => w.read().dataSync() as Float32Array));
          await input.checkpoints.save(averageKey, average.encode());
        }
      }
      model.weights.forEach((w, i) =>
        tf.tidy(() => {
          w.write(tf.tensor(average.values[i], w.read().shape, 'float32'));
        }),
      );
      latest = await evaluateAndExport('swa', true, !stopped);
      return {
        status: stopped ? 'stopped-by-budget' : 'completed',
        model: latest,
        history,
        resumedFrom,
        stages: clock.toJSON(),
      };
    }
    for (const [i, phase] of recipe.phases.entries()) {
      if (phase.backbone === 'frozen') classifier.freezeBackbone();
      else classifier.unfreezeBackbone();
      if (phase.backbone !== 'frozen' && regularizer && isDelta(regularizer) && !attentionDone) {
        // DELTA's channel attention, from the head trained on the frozen backbone (a resumed job has
        // the finished head phase's weights back by now) and the first training images, unshuffled.
        await channelAttention(regularizer, input, recipe, norm);
        attentionDone = true;
      }
      const last = i === recipe.phases.length - 1;
      let result: Pick<Awaited<ReturnType<typeof train>>, 'status' | 'history'> &
        Partial<Pick<Awaited<ReturnType<typeof train>>, 'dynamics' | 'resumedFrom'>>;
      try {
        // A pretrained backbone's frozen head phase (a search trial's) trains on features computed once.
        featureHead = Boolean(recipe.headOnFeatures && phase.backbone === 'frozen' && spec.pretrained);
        if (featureHead) {
          const head = await trainHeadOnFeatures(
            classifier,
            { shards: input.shards, index, normalization: norm, input: recipe.input },
            {
              epochs: recipe.featureHeadEpochs ?? FEATURE_HEAD_EPOCHS,
              ...(recipe.featureHeadEpochs !== undefined ? { earlyStopping: false } : {}),
              learningRate: phase.learningRate,
              batchSize: recipe.batchSize,
              labelSmoothing: recipe.labelSmoothing,
              seed: recipe.seed + i,
              ...(recipe.weightDecay ? { weightDecay: recipe.weightDecay } : {}),
              signal: hooks.signal,
              ...(recipe.headImagesOnly ? { views: ['image'] as const } : {}),
              replicas: replicasReady,
              // Their validation passes run on the replica threads while the head trains.
              ...(hasValidation ? { prefetchViews: candidates } : {}),
              clock,
            },
          );
          headPredictions = head.validationPredictions;
          result = head;
        } else {
          const replicas = await replicasReady;
          result = await clock.time('train', () =>
            train(model, {
              microBatch: 'auto',
              onMemory: async (e) => {
                const message =
                  e.kind === 'probe'
                    ? `${phase.name}: a step of ${e.batch} images needs ~${Math.round(((e.fixedBytes ?? 0) + e.batch * (e.perSampleBytes ?? 0)) / MiB)} MiB ` +
                      `(budget ${Math.round(e.budgetBytes / MiB)} MiB); computing it in slices of ${e.microBatch}`
                    : `${phase.name}: a step of ${e.batch} images ran out of memory; retrying in slices of ${e.microBatch}`;
                await hooks.onNotice?.({ kind: 'memory', phase: phase.name, message, data: { ...e } });
              },
              data: trainData,
              dynamics: { samples: trainSamples },
              ...(augment ? { augment } : {}),
              ...(validation ? { validation } : {}),
              epochs: phase.epochs,
              optimizer: recipe.weightDecay
                ? { type: 'adamw', weightDecay: recipe.weightDecay }
                : { type: 'adam' },
              learningRate: phase.learningRate,
              lrSchedule: {
                type: 'cosine',
                warmupSteps: Math.min(50, trainData.stepsPerEpoch ?? 0),
                minFactor: 0.05,
              },
              ...(paramGroups(phase, backboneNames)
                ? { paramGroups: paramGroups(phase, backboneNames) }
                : {}),
              labelSmoothing: recipe.labelSmoothing,
              ...(regularizer ? { regularizer } : {}),
              clipGradNorm: 5,
              seed: recipe.seed + i,
              ...(phase.earlyStoppingPatience && validation
                ? {
                    earlyStopping: {
                      monitor: 'val_loss',
                      patience: phase.earlyStoppingPatience,
                      restoreBestWeights: true,
                    },
                  }
                : {}),
              checkpoint: checkpointAs(`phase-${i}-${phase.name}`),
              signal: hooks.signal,
              ...(replicas ? { replicas } : {}),
              progressEverySteps: 10,
              onProgress: async (p) => {
                const done = epochsBefore + p.epoch + (p.stepsPerEpoch ? p.step / p.stepsPerEpoch : 0);
                const percent = Math.min(99, (done / Math.max(1, totalEpochs)) * 100);
                const rate =
                  p.elapsedSeconds > 0 && done > epochsBefore ? (done - epochsBefore) / p.elapsedSeconds : 0;
                const etaSeconds = rate > 0 ? (totalEpochs - done) / rate : null;
                await hooks.onProgress({
                  phase: phase.name,
                  phaseIndex: i,
                  phases: recipe.phases.length,
                  percent,
                  etaSeconds,
                  train: p,
                });
              },
            }),
          );
        }
      } catch (error) {
        const failure = deterministicFailure(error);
        if (!failure) throw error;
        if (!latest) {
          // No model to keep: fail for good instead of retrying what would fail the same way.
          throw new PermanentJobError(failure.code, `${phase.name} phase: ${failure.message}`);
        }
        const failedPhase: PhaseFailure = { phase: phase.name, code: failure.code, message: failure.message };
        await hooks.onNotice?.({
          kind: 'phase-failed',
          phase: phase.name,
          message: `${phase.name} phase failed (${failure.message}); keeping the ${latest.phase} phase's model (test accuracy ${(latest.report.accuracy * 100).toFixed(2)}%)`,
          data: { ...failedPhase, keptPhase: latest.phase },
        });
        return {
          status: 'phase-failed',
          model: latest,
          history,
          resumedFrom,
          failedPhase,
          stages: clock.toJSON(),
        };
      }
      if (result.dynamics) phaseDynamics.push(result.dynamics);
      if (result.resumedFrom && !resumedFrom && result.resumedFrom.globalStep > 0)
        resumedFrom = { phase: phase.name, ...result.resumedFrom };
      const fresh = result.history.slice(history.filter((h) => h.phase === phase.name).length);
      for (const log of fresh) history.push({ ...log, phase: phase.name });
      if (hooks.onEpochs && fresh.length > 0) await hooks.onEpochs(phase.name, fresh);
      else for (const log of fresh) await hooks.onEpoch(phase.name, log);
      epochsBefore += phase.epochs;
      if (result.status === 'cancelled') {
        const reason: unknown = hooks.signal.reason;
        if (!hooks.keepModelOnStop(reason)) throw reason;
        // Budget reached: the weights trained so far are the best we have; evaluate and keep them.
        return {
          status: 'stopped-by-budget',
          model: await evaluateAndExport(phase.name, true, false),
          history,
          resumedFrom,
          stages: clock.toJSON(),
        };
      }
      const resumedFinished = result.resumedFrom !== undefined && result.resumedFrom.epoch >= phase.epochs;
      if (!resumedFinished || last) await evaluateAndExport(phase.name, last);
    }
    if (!latest)
      latest = await evaluateAndExport(recipe.phases[recipe.phases.length - 1]?.name ?? 'none', true);
    return { status: 'completed', model: latest, history, resumedFrom, stages: clock.toJSON() };
  } finally {
    await (await replicasReady)?.dispose();
    regularizer?.dispose();
    model.dispose();
  }
}

/**
 * The replica threads of a multi-threaded run, or undefined when the run uses one thread (one
 * configured, or a backend with multi-threaded kernels of its own). A pool that cannot start is not
 * fatal: the run goes on in one thread and says so.
 */
async function startReplicas(
  model: PipelineModelHandle,
  input: PipelineInput,
  hooks: PipelineHooks,
  /** A regularizer that runs the forward pass itself (BSS, DELTA): it exists on this thread only. */
  ownForward?: string,
): Promise<ReplicaPool | undefined> {
  const threads = input.threads ?? 1;
  const backend = currentBackend()?.name;
  if (threads <= 1 || (backend !== 'wasm' && backend !== 'cpu')) return undefined;
  const phase = input.recipe.phases[0]?.name ?? 'none';
  if (ownForward) {
    await hooks.onNotice?.({
      kind: 'threads',
      phase,
      message: `training on one thread: the ${ownForward} regularizer's penalty is computed in this thread's forward pass only`,
      data: { threads: 1 },
    });
    return undefined;
  }
  try {
    const pool = await ReplicaPool.create(model, {
      replicas: threads - 1,
      backend,
      // This thread also prepares every batch and applies the update: it takes fewer rows.
      split: 'measured',
      ...(input.nativeBlas !== undefined ? { nativeBlas: input.nativeBlas } : {}),
    });
    await hooks.onNotice?.({
      kind: 'threads',
      phase,
      message: `training on ${threads} threads: each batch split between ${threads} model replicas by their measured speed`,
      data: { threads },
    });
    return pool;
  } catch (error) {
    await hooks.onNotice?.({
      kind: 'threads',
      phase,
      message: `training on one thread: the ${threads - 1} replica thread(s) did not start (${error instanceof Error ? error.message : String(error)})`,
      data: { threads },
    });
    return undefined;
  }
}

type PipelineModelHandle = Parameters<typeof ReplicaPool.create>[0];

/**
 * Images DELTA's channel attention is measured on: 32 at 64 px, fewer for larger inputs (as many
 * pixels, at least 8), since each regularized channel costs one forward pass of them (measured: 18
 * CPU s for MobileNetV2's 280 channels on 32 images at 64 px, wasm).
 */
export function deltaAttentionSamples(input: { height: number; width: number }): number {
  return Math.max(8, Math.min(32, Math.floor((32 * 64 * 64) / (input.height * input.width))));
}

const isDelta = (r: WeightRegularizer): r is DELTARegularizer => 'computeAttention' in r;

async function channelAttention(
  regularizer: DELTARegularizer,
  input: PipelineInput,
  recipe: PipelineInput['recipe'],
  norm: PipelineInput['spec']['normalization'],
): Promise<void> {
  const batches = shardEpochs(
    input.shards,
    input.index,
    'train',
    deltaAttentionSamples(recipe.input),
    norm,
    recipe.input,
    false,
  )({ epoch: 0, startStep: 0, seed: recipe.seed });
  for await (const b of batches) {
    try {
      await regularizer.computeAttention(b.xs, b.ys);
    } finally {
      tf.dispose([b.xs, b.ys]);
    }
    break;
  }
}

/**
 * Copies the weights of the model exported at `prefix` into `model` (same architecture), matched by
 * weight name (layer/weight: a reloaded model may list a nested backbone's weights in another order).
 */
async function warmStartFrom(
  model: tf.LayersModel,
  from: { reader: ArtifactReader; prefix: string },
): Promise<void> {
  const parent = await loadExportedModel(from.reader, from.prefix);
  try {
    const source = new Map(parent.model.weights.map((w) => [w.originalName, w]));
    const pairs = model.weights.map((w) => [w, source.get(w.originalName)] as const);
    const missing = pairs.filter(([w, s]) => !s || s.shape.join('x') !== w.shape.join('x'));
    if (missing.length > 0 || source.size !== model.weights.length)
      throw new PermanentJobError(
        'WARM_START_MISMATCH',
        `the model at ${from.prefix} does not have this run's architecture (${missing.length} of ${model.weights.length} weights unmatched, e.g. ${missing[0]?.[0].originalName ?? '-'})`,
      );
    for (const [w, s] of pairs) w.write(s!.read());
  } finally {
    parent.model.dispose();
  }
}

/**
 * Averaging the weights is what stochastic weight averaging needs only when no BatchNormalization
 * layer updates its moving statistics while training: with them, the averaged weights would need
 * statistics recomputed for them. The small CNNs have none; a pretrained backbone's run in inference
 * mode (fixed statistics, its scale and offset an affine map that averages like any weight).
 */
function assertSwaSafe(classifier: {
  model: tf.LayersModel;
  backboneBatchNorm: 'inference' | 'batch';
}): void {
  if (classifier.backboneBatchNorm === 'inference') return;
  const hasBatchNorm = (layers: tf.layers.Layer[]): boolean =>
    layers.some(
      (l) =>
        l.getClassName() === 'BatchNormalization' ||
        ('layers' in l && hasBatchNorm((l as unknown as tf.LayersModel).layers)),
    );
  if (hasBatchNorm(classifier.model.layers))
    throw new PermanentJobError(
      'SWA_BATCH_NORM',
      'weight averaging of a model whose batch normalization trains its statistics is not supported',
    );
}

/** A running mean of weight snapshots, encoded for the checkpoint store (count, then the values). */
export class WeightAverage {
  count = 0;
  values: Float32Array[];

  constructor(shapes: number[][]) {
    this.values = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
  }

  add(snapshot: Float32Array[]): void {
    this.count++;
    const w = 1 / this.count;
    snapshot.forEach((v, i) => {
      const a = this.values[i];
      for (let j = 0; j < a.length; j++) a[j] += (v[j] - a[j]) * w;
    });
  }

  encode(): Uint8Array {
    const total = this.values.reduce((n, v) => n + v.length, 0);
    const out = new Float32Array(2 + total);
    const header = new Uint32Array(out.buffer, 0, 2);
    header[0] = this.count;
    header[1] = this.values.length;
    let at = 2;
    for (const v of this.values) {
      out.set(v, at);
      at += v.length;
    }
    return new Uint8Array(out.buffer);
  }

  /** Restores a saved average (none, or one of another architecture: starts empty). */
  decode(bytes: Uint8Array | null): void {
    if (!bytes || bytes.byteLength % 4 !== 0) return;
    const all = new Float32Array(bytes.slice().buffer);
    const header = new Uint32Array(all.buffer, 0, 2);
    const total = this.values.reduce((n, v) => n + v.length, 0);
    if (header[1] !== this.values.length || all.length !== 2 + total) return;
    this.count = header[0]!;
    let at = 2;
    for (const v of this.values) {
      v.set(all.subarray(at, at + v.length));
      at += v.length;
    }
  }
}

/** Per image of `p`, whether its top class is the label (1) or not (0), with the labels. */
function rightOrWrong(p: Predictions): { correct: Uint8Array; labels: Int32Array } {
  const pred = argmaxRows(p);
  const labels = Int32Array.from(p.labels);
  return { correct: Uint8Array.from(labels, (l, i) => (pred[i] === l ? 1 : 0)), labels };
}
