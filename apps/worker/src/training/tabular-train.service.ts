import { Inject, Injectable, Logger } from '@nestjs/common';
import { JOBS } from '@modelsmith/contracts';
import type { Task } from '@modelsmith/db';
import {
  loadShardIndex,
  readRecordShards,
  type RecordShardIndex,
  type ShardSource,
} from '@modelsmith/datasets';
import {
  DatasetVersionStore,
  JobStore,
  ModelStore,
  PermanentJobError,
  ThroughputStore,
} from '@modelsmith/jobs';
import {
  evaluateTabular,
  TABULAR_MODEL_FILE,
  TabularTrainingError,
  trainTabular,
  type TabularRow,
  type TabularTask,
} from '@modelsmith/ml';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { tabularCandidates } from '@modelsmith/ml/catalogue';
import { objectShardSource } from '../adapters/object-store-io';
import type { JobContext } from '../runtime/job-handler';
import { recordThroughputRows } from './throughput-records';

export const TABULAR_TASKS: readonly Task[] = ['TABULAR_CLASSIFICATION', 'TABULAR_REGRESSION'];

export function isTabularTask(task: Task): boolean {
  return TABULAR_TASKS.includes(task);
}

/** Ingestion warnings about columns and the target, carried into the model's report. */
const DATASET_WARNINGS = new Set(['missing_values', 'constant_column', 'target_high_cardinality']);

/** Report column summary as ingestion wrote it (only what is read here). */
interface ReportColumn {
  name: string;
  type: string;
  distinct: number;
  distinctCapped: boolean;
}

/**
 * The TRAIN job on a tabular dataset version: reads its record shards, trains the tabular
 * candidates (libs/ml tabular) under the budget, evaluates the kept one on the test split, and
 * writes the JSON artifact, its evaluation and a manifest under the model's prefix, with one Model
 * row per job (id = job id), like image models.
 */
@Injectable()
export class TabularTrainService {
  private readonly logger = new Logger('TabularTrain');

  constructor(
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    private readonly jobs: JobStore,
    private readonly versions: DatasetVersionStore,
    private readonly models: ModelStore,
  ) {}

  async handle(ctx: JobContext<typeof JOBS.train>, datasetTask: Task): Promise<Record<string, unknown>> {
    const ref = ctx.payload;
    const startedAt = performance.now();
    const { datasetVersionId, mode, budget, options } = ctx.inputs;
    const check = await this.versions.checkTrainable(ref.tenantId, datasetVersionId, datasetTask);
    if (!check.ok) {
      if (check.reason === 'TOO_FEW_IMAGES')
        throw new PermanentJobError(
          'TOO_FEW_ROWS',
          `classes with too few training rows: ${check.classes.map((c) => `${c.name} (${c.train})`).join(', ')}`,
        );
      throw new PermanentJobError(
        'DATASET_NOT_READY',
        `dataset version ${datasetVersionId} is not ready for training`,
      );
    }
    const version = check.version;
    const shards = objectShardSource(this.store);
    const index = await loadShardIndex(shards, version.shardPrefix);
    if (index.kind !== 'tabular')
      throw new PermanentJobError(
        'TASK_UNSUPPORTED',
        `dataset version ${version.id} holds ${index.kind} data`,
      );
    const report = version.report as {
      tabular?: { columns?: ReportColumn[] };
      warnings?: { code: string; message: string; subject?: string }[];
    } | null;
    const columns = report?.tabular?.columns ?? [];
    const target = options.target ?? index.target ?? '';
    const task = this.taskFor(target, index, columns);
    const classes = target === index.target && task === 'classification' ? index.labels : undefined;

    await ctx.progress({
      stage: 'preparing',
      percent: 2,
      message: `reading rows (target \`${target}\`, ${task})`,
    });
    const [train, validation, test] = await Promise.all([
      readSplit(shards, index, 'train'),
      readSplit(shards, index, 'validation'),
      readSplit(shards, index, 'test'),
    ]);
    const origin = (ctx.job.startedAt ?? new Date()).getTime();
    const deadline = origin + budget.maxMinutes * 60_000;
    const candidates = tabularCandidates(options.tabularModel ?? 'auto', mode);
    let done = 0;
    await ctx.progress({
      stage: 'training',
      percent: 5,
      message: `${train.length} training, ${validation.length} validation rows; candidates ${candidates.join(', ')}`,
    });
    let result;
    try {
      result = await trainTabular({
        train: { rows: train },
        validation: { rows: validation },
        target,
        task,
        classes,
        columns: (index.columns ?? []).filter((c) => c !== target),
        types: Object.fromEntries(columns.map((c) => [c.name, c.type])),
        candidates,
        deadline,
        seed: options.seed ?? 1,
        onCandidate: async (c) => {
          done++;
          await this.jobs.progress(
            ref,
            {
              stage: 'training',
              percent: 5 + Math.round((85 * done) / candidates.length),
              message: `${c.name}: validation ${task === 'classification' ? `accuracy ${c.validScore.toFixed(4)}, log loss` : `R² ${c.validScore.toFixed(4)}, RMSE`} ${c.validLoss.toFixed(4)} (${c.trainMs} ms)`,
              data: { ...c },
            },
            'metrics',
          );
        },
      });
    } catch (e) {
      if (e instanceof TabularTrainingError) throw new PermanentJobError(e.code, e.message);
      throw e;
    }
    for (const w of result.warnings)
      await ctx.progress({
        stage: 'training',
        message: w.message,
        data: { warning: w.code, subject: w.subject },
      });

    await ctx.progress({ stage: 'evaluating', percent: 92 });
    const heldOut = test.length > 0 ? test : validation;
    const evaluation = {
      ...evaluateTabular(result.artifact, heldOut, {
        candidates: result.candidates,
        chosen: result.chosen.name,
        warnings: result.warnings,
      }),
      evaluatedOn: test.length > 0 ? 'test' : 'validation',
      // The dataset's column warnings from ingestion, next to the ones training found.
      datasetWarnings: (report?.warnings ?? []).filter((w) => DATASET_WARNINGS.has(w.code)),
    };
    const modelId = ctx.job.id;
    const files: { path: string; size: number }[] = [];
    const put = async (file: string, body: unknown) => {
      const bytes = Buffer.from(JSON.stringify(body, null, file === TABULAR_MODEL_FILE ? 0 : 2));
      await this.store.putBytes(keys.modelFile(ref.tenantId, modelId, file), bytes, 'application/json');
      files.push({ path: file, size: bytes.length });
    };
    await put(TABULAR_MODEL_FILE, result.artifact);
    await put('evaluation.json', evaluation);
    const metrics: Record<string, number> =
      task === 'classification'
        ? { accuracy: evaluation.accuracy ?? 0, validationAccuracy: result.chosen.validScore }
        : {
            rmse: evaluation.regression!.rmse,
            mae: evaluation.regression!.mae,
            r2: evaluation.regression!.r2,
            validationR2: result.chosen.validScore,
          };
    const manifest = {
      format: result.artifact.format,
      task,
      target,
      backboneId: null,
      modelType: result.artifact.model.type,
      metrics,
      files: [...files],
    };
    await put('manifest.json', manifest);
    const modelTask: Task = task === 'classification' ? 'TABULAR_CLASSIFICATION' : 'TABULAR_REGRESSION';
    await this.models.saveTrained(ref.tenantId, {
      id: modelId,
      jobId: ctx.job.id,
      datasetVersionId: version.id,
      name: `${version.dataset.name} (${target}, ${result.chosen.name})`,
      backbone: null,
      task: modelTask,
      artifactPrefix: keys.model(ref.tenantId, modelId),
      manifest,
      report: { ...evaluation },
      recipe: { task, target, chosen: result.chosen, candidates: result.candidates, final: true },
      sizeBytes: files.reduce((s, f) => s + f.size, 0),
    });
    await this.jobs.update(ref, { bestMetric: result.chosen.validScore });
    // Measured for estimates (docs/jobs.md): only runs that finished their fits before the deadline.
    if (Date.now() < deadline) {
      const rows = recordThroughputRows({
        jobId: ctx.job.id,
        workerKind: `${ctx.job.queue}/js`,
        task: 'tabular',
        size: (index.columns ?? []).filter((c) => c !== target).length,
        trainSamples: train.length,
        fits: result.candidates.map((c) => ({ candidate: c.name, epochs: 1, seconds: c.trainMs / 1000 })),
        wallSeconds: (performance.now() - startedAt) / 1000,
      });
      ctx.commitOnSuccess((tx) => ThroughputStore.record(tx, rows));
    }
    this.logger.log(`job ${ctx.job.id}: tabular ${task} model ${result.chosen.name} on \`${target}\``);
    return {
      modelId,
      status: 'COMPLETED',
      task,
      target,
      model: result.chosen.name,
      ...metrics,
      testSamples: evaluation.numSamples,
    };
  }

  /** Classification or regression for the chosen target: the dataset's task for its own target, else from the column's type. */
  private taskFor(target: string, index: RecordShardIndex, columns: ReportColumn[]): TabularTask {
    if (!(index.columns ?? []).includes(target))
      throw new PermanentJobError(
        'UNKNOWN_TARGET',
        `the target "${target}" is not a column of this dataset (${(index.columns ?? []).join(', ')})`,
      );
    // The dataset's own target: as ingestion indexed it (class indices, or null labels for regression).
    if (target === index.target)
      return index.labels.length > 0 && index.samples.some((s) => s.label !== null)
        ? 'classification'
        : 'regression';
    const col = columns.find((c) => c.name === target);
    if (!col || col.type === 'empty' || col.type === 'date' || col.type === 'text')
      throw new PermanentJobError(
        'BAD_TARGET',
        `column "${target}" (${col?.type ?? 'unknown'}) cannot be a target`,
      );
    if (col.type === 'numeric' && (col.distinctCapped || col.distinct > 20)) return 'regression';
    return 'classification';
  }
}

async function readSplit(
  source: ShardSource,
  index: RecordShardIndex,
  split: 'train' | 'validation' | 'test',
): Promise<TabularRow[]> {
  const rows: TabularRow[] = [];
  for await (const batch of readRecordShards(source, { split, index, batch: 1024 }))
    for (const r of batch.records) rows.push(r as TabularRow);
  return rows;
}
