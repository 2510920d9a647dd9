import { Inject, Injectable, Logger } from '@nestjs/common';
import { mlBackendOptions, trainThreads, trialThreads, type AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { JOBS, parseRowInputs, type JobRef } from '@modelsmith/contracts';
import type { Prisma } from '@modelsmith/db';
import { LABEL_QUALITY_FILE } from '@modelsmith/contracts';
import { loadShardIndex, type ImageShardIndex, type ShardSource } from '@modelsmith/datasets';
import {
  DatasetVersionStore,
  JobStore,
  ModelStore,
  PermanentJobError,
  ThroughputStore,
  TrialStore,
  type NotTrainable,
} from '@modelsmith/jobs';
import {
  initBackend,
  ModelZoo,
  ZooError,
  type BackendInfo,
  type BackboneSpec,
  type CrossFitScores,
  type DynamicsValues,
  type EpochLog,
} from '@modelsmith/ml';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import {
  objectArtifactReader,
  objectArtifactWriter,
  objectCheckpointStore,
  objectShardSource,
} from '../adapters/object-store-io';
import { HandlesJob, type JobContext, type JobHandler } from '../runtime/job-handler';
import {
  runImageClassification,
  type PipelineModel,
  type PipelineProgress,
} from '../training/image-classification';
import { labelQuality, suspectThumbnails, type LabelQuality, type Suspect } from '../training/label-quality';
import { parseMetricHistory, type EpochRecord } from '../training/metric-history';
import { throughputRecords } from '../training/throughput-records';
import { buildRecipe, chooseBackbone } from '../training/recipe';
import { cachingShardSource, splitCount } from '../training/shard-batches';
import { AutoSearchJob } from '../training/search/search-job';
import { isTabularTask, TabularTrainService } from '../training/tabular-train.service';
import { TextTrainJob } from './train-text';

/** The wall-clock budget ran out: stop training and keep the best model so far. */
export class BudgetExceeded extends Error {
  readonly code = 'BUDGET_EXCEEDED';
}

const SHARD_CACHE_BYTES = 512 * 1024 * 1024;
/** Dataset tasks a TRAIN job trains (the API checks its own task against the dataset's). */
const TRAINABLE_TASKS = ['IMAGE_CLASSIFICATION', 'TEXT_CLASSIFICATION'] as const;
const PROGRESS_EVERY_MS = 2_000;

/**
 * Trains an image classifier for a TRAIN job: streams the dataset version's shards, builds
 * backbone + head from the zoo, trains by the default recipe (checkpointing to the object store, so a
 * killed worker's successor resumes), evaluates on the held-out test split, exports the model and
 * its report, and keeps exactly one Model row per job (id = job id) that improves phase by phase.
 */
@Injectable()
@HandlesJob(JOBS.train)
export class TrainHandler implements JobHandler<typeof JOBS.train> {
  private readonly logger = new Logger('Train');
  private backend?: Promise<BackendInfo>;

  constructor(
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobStore,
    private readonly versions: DatasetVersionStore,
    private readonly models: ModelStore,
    private readonly search: AutoSearchJob,
    private readonly tabular: TabularTrainService,
    private readonly trials: TrialStore,
  ) {}

  private ensureBackend(): Promise<BackendInfo> {
    this.backend ??= initBackend({ ...mlBackendOptions(this.config), log: (m) => this.logger.log(m) });
    return this.backend;
  }

  async handle(ctx: JobContext<typeof JOBS.train>): Promise<Record<string, unknown>> {
    const ref = ctx.payload;
    const job = ctx.job;
    const { datasetVersionId, mode, budget, options } = ctx.inputs;
    await ctx.progress({ stage: 'preparing', percent: 0 });
    const check = await this.versions.checkTrainable(ref.tenantId, datasetVersionId, TRAINABLE_TASKS);
    // Tabular datasets train in their own pipeline (training/tabular-train.service.ts).
    if (!check.ok && check.reason === 'TASK_MISMATCH' && isTabularTask(check.task))
      return this.tabular.handle(ctx, check.task);
    if (!check.ok) throw notTrainable(datasetVersionId, check);
    const version = check.version;
    const shards = cachingShardSource(objectShardSource(this.store), SHARD_CACHE_BYTES);
    const index = await loadShardIndex(shards, version.shardPrefix);
    // Text datasets: their own pipeline (libs/ml text classifier; no tfjs backend needed).
    if (index.kind === 'text')
      return new TextTrainJob(this.store, this.jobs, this.models, this.trials).run(
        ctx,
        version,
        index,
        shards,
      );
    const backend = await this.ensureBackend();
    // The run's clock for throughput records starts once the backend is up (once per process, not per job).
    const startedAt = performance.now();
    if (index.kind !== 'image')
      throw new PermanentJobError(
        'TASK_UNSUPPORTED',
        `image, text and tabular datasets train; this dataset is ${index.kind}`,
      );

    const zoo = new ModelZoo({ reader: objectArtifactReader(this.store) });
    const shape = {
      height: index.height,
      width: index.width,
      channels: index.channels,
      numClasses: index.labels.length,
      trainSamples: index.samples.filter((s) => s.split === 'train').length,
    };
    let spec: BackboneSpec;
    try {
      spec = zoo.get(chooseBackbone(options.backbone, shape));
    } catch (e) {
      if (e instanceof ZooError) throw new PermanentJobError('UNKNOWN_BACKBONE', e.message);
      throw e;
    }
    const recipe = buildRecipe(spec, shape, mode, options);

    // The budget counts from the job's first start, across worker restarts.
    const controller = new AbortController();
    const onAbort = () => controller.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const deadline = (job.startedAt ?? new Date()).getTime() + budget.maxMinutes * 60_000;
    const budgetEnd = () => {
      if (!controller.signal.aborted)
        controller.abort(new BudgetExceeded(`the ${budget.maxMinutes}-minute budget was reached`));
    };
    // Also checked at every progress report: training on cached shards may not yield to timers for long.
    const checkBudget = () => {
      if (Date.now() >= deadline) budgetEnd();
    };
    if (budget.maxMinutes) timer = setTimeout(budgetEnd, Math.max(0, deadline - Date.now()));

    const history = parseMetricHistory(job.metricHistory);
    const resumed = history.length > 0;
    let models = 0;
    let lastProgress = 0;
    const modelId = job.id;
    const modelPrefix = keys.model(ref.tenantId, modelId);
    const fit = version.report?.image?.cache?.fit ?? 'cover';
    const datasetRef = { id: version.id, datasetId: version.datasetId, name: version.dataset.name };
    try {
      // 'auto': a first model early, then a search while the budget lasts (training/search).
      if (mode === 'auto' && splitCount(index, 'validation') > 0) {
        const { result: r, history: curves } = await this.search.run(ctx, {
          index,
          shards,
          zoo,
          shape,
          options,
          ...(budget.maxTrials !== undefined ? { maxTrials: budget.maxTrials } : {}),
          signal: controller.signal,
          isBudgetStop: (reason) => reason instanceof BudgetExceeded,
          deadline,
          checkBudget,
          fit,
          threads: trainThreads(this.config),
          nativeBlas: mlBackendOptions(this.config).nativeBlas,
          modelPrefix,
          saveModel: async (b) => {
            // The chosen trial's label quality (the final model's with the held-out pass), as the
            // fixed recipe's models have it; or why there is none.
            const lq = b.labelQuality;
            const labels =
              lq && 'dynamics' in lq
                ? await this.writeLabelQuality(
                    ref.tenantId,
                    modelId,
                    index,
                    shards,
                    lq.dynamics,
                    lq.heldOut,
                    {
                      trial: lq.trial,
                      ...(lq.note ? { note: lq.note } : {}),
                    },
                  )
                : undefined;
            await this.saveModel(
              ctx,
              {
                phase: `trial-${b.trial}`,
                manifest: b.manifest,
                report: {
                  ...b.report,
                  leaderboard: b.leaderboard,
                  ...(b.pareto ? { pareto: b.pareto } : {}),
                  ...(lq && 'unavailable' in lq ? { labelQualityUnavailable: lq.unavailable } : {}),
                } as PipelineModel['report'],
                final: b.final,
              },
              {
                modelId,
                modelPrefix,
                recipe: { ...b.recipe, trial: b.trial },
                version: datasetRef,
                ...(labels ? { labelQuality: labels } : {}),
              },
            );
          },
        });
        await this.writeRunArtifacts(ctx, modelId, curves);
        return {
          modelId,
          status: r.status,
          backbone: r.best.manifest.backboneId,
          accuracy: r.best.report.accuracy,
          validationAccuracy: r.best.manifest.metrics.validationAccuracy,
          testSamples: r.best.report.numSamples,
          epochs: curves.length,
          trials: r.trials.length,
          bestTrial: r.best.trial,
          pareto: r.best.pareto ?? [],
          ...(r.resumedTrial !== undefined ? { resumedTrial: r.resumedTrial } : {}),
        };
      }
      await ctx.progress({
        stage: 'training',
        percent: 1,
        message: `backbone ${spec.id}, ${recipe.phases.map((p) => `${p.name} x${p.epochs}`).join(', ')}`,
        data: { recipe },
      });
      const result = await runImageClassification(
        {
          index: index,
          shards,
          zoo,
          spec,
          recipe,
          checkpoints: objectCheckpointStore(this.store, ref.tenantId, job.id),
          writer: objectArtifactWriter(this.store),
          modelPrefix,
          fit,
          threads: trainThreads(this.config),
          nativeBlas: mlBackendOptions(this.config).nativeBlas,
        },
        {
          signal: controller.signal,
          keepModelOnStop: (reason) => reason instanceof BudgetExceeded,
          onProgress: async (p) => {
            checkBudget();
            if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
            lastProgress = Date.now();
            await this.reportProgress(ctx, p);
          },
          onEpoch: (phase, log) => this.recordEpoch(ref, ctx.owner, history, phase, log),
          onNotice: (n) =>
            ctx.progress({
              stage: 'training',
              message: n.message,
              data: { notice: n.kind, phase: n.phase, ...n.data },
            }),
          onModel: async (m) => {
            models++;
            const labels = m.dynamics
              ? await this.writeLabelQuality(ref.tenantId, modelId, index, shards, m.dynamics, m.heldOut)
              : undefined;
            await this.saveModel(ctx, m, {
              modelId,
              modelPrefix,
              recipe,
              version: datasetRef,
              ...(labels ? { labelQuality: labels } : {}),
            });
          },
        },
      );
      await this.writeRunArtifacts(ctx, modelId, history);
      if (!resumed && result.status === 'completed' && !result.resumedFrom) {
        const rows = throughputRecords({
          jobId: job.id,
          workerKind: `${job.queue}/${backend.name}${backend.nativeBlas ? '+blas' : ''}`,
          backboneId: spec.id,
          inputSize: Math.max(recipe.input.height, recipe.input.width),
          channels: recipe.input.channels,
          phases: recipe.phases,
          history,
          wallSeconds: (performance.now() - startedAt) / 1000,
          overheadUnits: history.length + models,
        });
        ctx.commitOnSuccess((tx) => ThroughputStore.record(tx, rows));
      }
      return {
        modelId,
        status: result.status,
        backbone: spec.id,
        accuracy: result.model.report.accuracy,
        testSamples: result.model.report.numSamples,
        epochs: history.length,
        ...(result.resumedFrom ? { resumedFrom: result.resumedFrom } : {}),
        // The model kept is the earlier phase's; the later phase failed for good (e.g. out of memory).
        ...(result.failedPhase ? { modelPhase: result.model.phase, failedPhase: result.failedPhase } : {}),
      };
    } finally {
      if (timer) clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Trains trial `index` of the search of TRAIN job `ref` (a trial queue job, on any worker): the
   * job's dataset, options and budget as its search has them; the budget's deadline counts from the
   * job's first start, as the search's does. 'skipped' when the trial is finished already, or the
   * job is no longer running.
   */
  async runTrial(
    ref: JobRef,
    index: number,
    workerId: string,
    signal: AbortSignal,
    onClaimed?: () => void,
  ): Promise<'done' | 'budget' | 'skipped'> {
    const job = await this.jobs.get(ref.tenantId, ref.jobId);
    if (!job || job.kind !== 'TRAIN' || job.cancelRequestedAt) return 'skipped';
    if (job.status !== 'RUNNING' && job.status !== 'QUEUED') return 'skipped';
    const { datasetVersionId, budget, options } = parseRowInputs(JOBS.train, job);
    const check = await this.versions.checkTrainable(ref.tenantId, datasetVersionId, TRAINABLE_TASKS);
    if (!check.ok) throw notTrainable(datasetVersionId, check);
    const version = check.version;
    const shards = cachingShardSource(objectShardSource(this.store), SHARD_CACHE_BYTES);
    const index_ = await loadShardIndex(shards, version.shardPrefix);
    if (index_.kind !== 'image')
      throw new PermanentJobError(
        'TASK_UNSUPPORTED',
        `trials train on image datasets; this is ${index_.kind}`,
      );
    await this.ensureBackend();
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const deadline = (job.startedAt ?? new Date()).getTime() + budget.maxMinutes * 60_000;
    const budgetEnd = () => {
      if (!controller.signal.aborted)
        controller.abort(new BudgetExceeded(`the ${budget.maxMinutes}-minute budget was reached`));
    };
    const timer = setTimeout(budgetEnd, Math.max(0, deadline - Date.now()));
    try {
      return await this.search.runTrial(ref, index, workerId, onClaimed, {
        index: index_,
        shards,
        zoo: new ModelZoo({ reader: objectArtifactReader(this.store) }),
        shape: {
          height: index_.height,
          width: index_.width,
          channels: index_.channels,
          numClasses: index_.labels.length,
          trainSamples: index_.samples.filter((x) => x.split === 'train').length,
        },
        options,
        ...(budget.maxTrials !== undefined ? { maxTrials: budget.maxTrials } : {}),
        deadline,
        fit: version.report?.image?.cache?.fit ?? 'cover',
        threads: trialThreads(this.config),
        nativeBlas: mlBackendOptions(this.config).nativeBlas,
        modelPrefix: keys.model(ref.tenantId, job.id),
        signal: controller.signal,
        isBudgetStop: (reason) => reason instanceof BudgetExceeded,
        checkBudget: () => {
          if (Date.now() >= deadline) budgetEnd();
        },
      });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** The model's training curves and the job's event log, next to the model. */
  private async writeRunArtifacts(
    ctx: JobContext<typeof JOBS.train>,
    modelId: string,
    history: EpochRecord[],
  ): Promise<void> {
    const ref = ctx.payload;
    await ctx.progress({ stage: 'exporting', percent: 99 });
    await this.store.putBytes(
      keys.modelFile(ref.tenantId, modelId, 'training-curves.json'),
      Buffer.from(JSON.stringify(history, null, 2)),
      'application/json',
    );
    const events = await this.jobs.events(ref.tenantId, ref.jobId, 0, 100_000);
    const log = events
      .map((e) =>
        JSON.stringify({
          seq: e.seq,
          at: e.createdAt,
          type: e.type,
          stage: e.stage,
          percent: e.percent,
          message: e.message,
          data: e.data,
        }),
      )
      .join('\n');
    await this.store.putBytes(
      keys.jobLog(ref.tenantId, ref.jobId, 'events.jsonl'),
      Buffer.from(log + '\n'),
      'application/x-ndjson',
    );
  }

  /** Checkpoints go only once the job is recorded SUCCEEDED: a crash before that resumes from them. */
  async afterSuccess(ctx: JobContext<typeof JOBS.train>): Promise<void> {
    await this.store.deletePrefix(keys.jobCheckpointsPrefix(ctx.payload.tenantId, ctx.payload.jobId));
  }

  private async reportProgress(ctx: JobContext<typeof JOBS.train>, p: PipelineProgress): Promise<void> {
    const t = p.train;
    await ctx.progress({
      stage: 'training',
      percent: p.percent,
      etaSeconds: p.etaSeconds,
      data: {
        phase: p.phase,
        epoch: t.epoch + 1,
        epochs: t.epochs,
        step: t.step,
        loss: t.loss,
        metrics: t.metrics,
        lr: t.lr,
        samplesPerSec: Math.round(t.samplesPerSec),
      },
    });
  }

  /** Per-epoch metric history on the job row; epochs replayed after a resume are not duplicated. */
  private async recordEpoch(
    ref: JobRef,
    owner: number,
    history: EpochRecord[],
    phase: string,
    log: EpochLog,
  ): Promise<void> {
    if (history.some((h) => h.phase === phase && h.epoch === log.epoch)) return;
    history.push({ ...log, phase });
    const best = Math.max(...history.map((h) => h.val_accuracy ?? h.accuracy));
    await this.jobs.update(
      ref,
      { metricHistory: history as unknown as Prisma.InputJsonValue, bestMetric: best },
      owner,
    );
    await this.jobs.progress(
      ref,
      {
        stage: 'training',
        message: `${phase} epoch ${log.epoch + 1}: loss ${log.loss.toFixed(4)}${log.val_accuracy !== undefined ? `, val_accuracy ${log.val_accuracy.toFixed(4)}` : ''}`,
        data: { ...log, phase },
      },
      'metrics',
      owner,
    );
  }

  /**
   * Suspected mislabeled training samples (training dynamics, AUM): every suspect (bounded) in
   * label-quality.json, thumbnails of the listed ones under label-quality/, the report's section.
   */
  private async writeLabelQuality(
    tenantId: string,
    modelId: string,
    index: ImageShardIndex,
    shards: ShardSource,
    dynamics: DynamicsValues,
    heldOut?: CrossFitScores,
    about: Pick<LabelQuality, 'trial' | 'note'> = {},
  ): Promise<LabelQuality> {
    const { report: scores, all } = labelQuality(index, dynamics, heldOut);
    const report = { ...scores, ...about };
    const thumbs = await suspectThumbnails(index, shards, report.suspects);
    const suspects: Suspect[] = [];
    for (const [rank, s] of report.suspects.entries()) {
      const png = thumbs.get(s.sampleId);
      const thumbnail = `label-quality/${rank}.png`;
      if (png) await this.store.putBytes(keys.modelFile(tenantId, modelId, thumbnail), png, 'image/png');
      suspects.push(png ? { ...s, thumbnail } : s);
    }
    const full = { ...report, suspects: all };
    await this.store.putBytes(
      keys.modelFile(tenantId, modelId, LABEL_QUALITY_FILE),
      Buffer.from(JSON.stringify(full)),
      'application/json',
    );
    return { ...report, suspects };
  }

  private async saveModel(
    ctx: JobContext<typeof JOBS.train>,
    m: PipelineModel,
    o: {
      modelId: string;
      modelPrefix: string;
      recipe: object;
      version: { id: string; datasetId: string; name: string };
      labelQuality?: LabelQuality;
    },
  ): Promise<void> {
    const { tenantId } = ctx.payload;
    const split = (m.report as { split?: string }).split ?? 'test';
    await ctx.progress({
      stage: 'evaluating',
      message: `${m.phase}: ${split} accuracy ${(m.report.accuracy * 100).toFixed(2)}% on ${m.report.numSamples} held-out images`,
    });
    await this.store.putBytes(
      keys.modelFile(tenantId, o.modelId, 'evaluation.json'),
      Buffer.from(JSON.stringify(m.report, null, 2)),
      'application/json',
    );
    const sizeBytes = m.manifest.files.reduce((s, f) => s + f.size, 0);
    await this.models.saveTrained(tenantId, {
      id: o.modelId,
      jobId: ctx.job.id,
      datasetVersionId: o.version.id,
      name: `${o.version.name} (${m.manifest.backboneId})`,
      backbone: m.manifest.backboneId,
      artifactPrefix: o.modelPrefix,
      manifest: m.manifest,
      report: { ...m.report, ...(o.labelQuality ? { labelQuality: o.labelQuality } : {}) },
      recipe: { ...o.recipe, phase: m.phase, final: m.final },
      sizeBytes,
    });
    await this.jobs.update(ctx.payload, { bestMetric: m.report.accuracy }, ctx.owner);
    this.logger.log(
      `job ${ctx.job.id}: model ${o.modelId} ${m.final ? 'final' : 'early'} accuracy ${m.report.accuracy.toFixed(4)}`,
    );
  }
}

/** The job's dataset version cannot be trained on (the API checks the same before accepting the job). */
function notTrainable(id: string, n: NotTrainable): PermanentJobError {
  switch (n.reason) {
    case 'NOT_FOUND':
    case 'NOT_READY':
      return new PermanentJobError('DATASET_NOT_READY', `dataset version ${id} is not ready for training`);
    case 'TASK_MISMATCH':
      return new PermanentJobError(
        'TASK_UNSUPPORTED',
        `image and text classification train today; this dataset is ${n.task}`,
      );
    case 'TOO_FEW_IMAGES':
      return new PermanentJobError(
        'TOO_FEW_IMAGES',
        `classes with too few training images: ${n.classes.map((c) => `${c.name} (${c.train})`).join(', ')}`,
      );
  }
}
