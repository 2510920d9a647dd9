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
  TrialStore,
} from '@modelsmith/jobs';
import {
  evaluateTabular,
  GbdtRungs,
  ONE_STANDARD_ERROR_RULE,
  oneStandardErrorChoice,
  prepareTabular,
  type PreparedTabular,
  TABULAR_MODEL_FILE,
  TabularTrainingError,
  type CandidateName,
  type TabularCandidate,
  type TabularModelArtifact,
  type TabularRow,
  type TabularTask,
  type TabularWarning,
} from '@modelsmith/ml';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { tabularCandidates } from '@modelsmith/ml/catalogue';
import { objectShardSource } from '../adapters/object-store-io';
import type { JobContext } from '../runtime/job-handler';
import { medianCost, runCandidateTrials, type CandidateCurve } from './search/candidate-trials';
import type { TrialRank } from './search/search-runner';
import { trialLedger } from './search/trial-ledger';
import {
  carriedDatasetWarnings,
  tabularSearchPlan,
  tabularSlotRuns,
  trainTabularTrial,
} from './tabular-plan';
import { recordThroughputRows } from './throughput-records';

/**
 * Tabular trials are ranked by validation log loss / RMSE, lowest first; the model is chosen by
 * {@link chooseTabularTrial}.
 */
export const TABULAR_RANK: TrialRank = { metric: 'validationLoss', higherIsBetter: false };

/**
 * The model among a tabular job's succeeded trials (index order): the one-standard-error rule of
 * trainTabular (libs/ml tabular `selection.ts`) on the trials' `validationLoss` and
 * `validationLossSE`: the lowest loss (ties: the earlier trial), or the linear trial when it is
 * within one standard error of it. A trial without `validationLossSE` (recorded before it existed)
 * counts with a standard error of 0.
 */
export function chooseTabularTrial<
  T extends { params: Record<string, unknown>; metrics: Record<string, unknown> | null },
>(succeeded: readonly T[]): T | undefined {
  const i = oneStandardErrorChoice(
    succeeded.map((t) => ({
      family: t.params.family === 'linear' ? 'linear' : 'gbdt',
      loss: typeof t.metrics?.validationLoss === 'number' ? t.metrics.validationLoss : NaN,
      lossSE: typeof t.metrics?.validationLossSE === 'number' ? t.metrics.validationLossSE : 0,
    })),
  );
  return i >= 0 ? succeeded[i] : undefined;
}

/** What a tabular trial writes next to its artifact (the search's report needs it for the winner). */
const TRIAL_FILE = 'trial.json';
interface TabularTrialFile {
  candidate: TabularCandidate;
  warnings: TabularWarning[];
}

export const TABULAR_TASKS: readonly Task[] = ['TABULAR_CLASSIFICATION', 'TABULAR_REGRESSION'];

export function isTabularTask(task: Task): boolean {
  return TABULAR_TASKS.includes(task);
}

/** Report column summary as ingestion wrote it (only what is read here). */
interface ReportColumn {
  name: string;
  type: string;
  distinct: number;
  distinctCapped: boolean;
}

/**
 * The TRAIN job on a tabular dataset version: reads its record shards, trains the tabular
 * candidates (libs/ml tabular) under the budget as trials recorded in the `trials` table
 * (search/candidate-trials.ts: a restarted job never re-runs a finished one), evaluates the one best
 * on validation on the test split, and
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
    private readonly trials: TrialStore,
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
    const plan = tabularSearchPlan(options.tabularModel ?? 'auto', mode, options.seed ?? 1);
    const modelId = ctx.job.id;
    await ctx.progress({
      stage: 'training',
      percent: 5,
      message: `${train.length} training, ${validation.length} validation rows; trials ${plan.map((c) => c.name).join(', ')}`,
    });
    const common = {
      train: { rows: train },
      validation: { rows: validation },
      target,
      task,
      classes,
      columns: (index.columns ?? []).filter((c) => c !== target),
      types: Object.fromEntries(columns.map((c) => [c.name, c.type])),
      deadline,
      seed: options.seed ?? 1,
    };
    // Fitted once per job (encoders, both matrices, the leakage check) and shared by its trials.
    let prepared: PreparedTabular | undefined;
    // The job's GBDT trials so far, by rung of iterations (a later one behind all of them stops there).
    // Held by this worker process: after a restart the trials an earlier attempt finished are not in it.
    const rungs = new GbdtRungs();
    const table = { rows: train.length, validationRows: validation.length };
    const search = await runCandidateTrials({
      ledger: trialLedger(this.trials, ref.tenantId, ctx.job.id),
      planAt: (slot) => {
        const c = plan[slot];
        if (!c) return undefined;
        // gbdt_small on small tables, sampled settings with enough validation rows (tabular-plan.ts).
        if (!tabularSlotRuns(c, slot, table)) return null;
        return {
          candidate: c.name,
          family: c.base === 'linear' ? 'linear' : 'gbdt',
          ...(c.gbdt ?? {}),
        };
      },
      maxTrials: budget.maxTrials ?? plan.length,
      deadline,
      estimateSeconds: (trials, params) => medianCost(trials, params, 'family'),
      rank: TABULAR_RANK,
      choose: chooseTabularTrial,
      removeTrialModel: async (i) => {
        await this.store.deletePrefix(keys.jobTrialModel(ref.tenantId, ctx.job.id, i));
      },
      signal: ctx.signal,
      fatal: (e) =>
        e instanceof TabularTrainingError ? new PermanentJobError(e.code, e.message) : undefined,
      onTrial: (t) =>
        ctx.progress({ stage: 'training', message: t.message, data: { trial: t.index, status: t.status } }),
      run: async (i, params) => {
        const slot = plan[Number(params.config)];
        const curves: CandidateCurve[] = [];
        prepared ??= prepareTabular(common);
        const result = await trainTabularTrial(common, prepared, slot, rungs, (it) => {
          curves.push({
            phase: slot.name,
            epoch: it.iteration - 1,
            loss: it.trainLoss,
            ...(it.validLoss !== undefined ? { val_loss: it.validLoss } : {}),
          });
        });
        const c = { ...result.chosen, name: slot.name as CandidateName };
        await ctx.progress({
          stage: 'training',
          percent: 5 + Math.round((85 * (i + 1)) / plan.length),
          message: `${c.name}: validation ${task === 'classification' ? `accuracy ${c.validScore.toFixed(4)}, log loss` : `R² ${c.validScore.toFixed(4)}, RMSE`} ${c.validLoss.toFixed(4)} (${c.trainMs} ms)`,
          data: { ...c },
        });
        const prefix = keys.jobTrialModel(ref.tenantId, ctx.job.id, i);
        await this.store.putBytes(
          prefix + TABULAR_MODEL_FILE,
          Buffer.from(JSON.stringify(result.artifact)),
          'application/json',
        );
        const file: TabularTrialFile = { candidate: c, warnings: result.warnings };
        await this.store.putBytes(prefix + TRIAL_FILE, Buffer.from(JSON.stringify(file)), 'application/json');
        return {
          metrics: {
            validationLoss: c.validLoss,
            validationLossSE: c.validLossSE,
            ...(task === 'classification'
              ? { validationAccuracy: c.validScore }
              : { validationR2: c.validScore }),
            trainMs: c.trainMs,
            ...(c.iterations !== undefined ? { iterations: c.iterations } : {}),
            ...(c.stoppedAtRung !== undefined ? { stoppedAtRung: c.stoppedAtRung } : {}),
            modelType: result.artifact.model.type,
            ...(Date.now() >= deadline ? { stopped: 'budget' } : {}),
          },
          artifactPrefix: prefix,
          curves,
        };
      },
    });
    const winner = search.best;
    const read = async <T>(file: string): Promise<T> =>
      JSON.parse((await this.store.getBytes(winner.artifactPrefix! + file)).toString()) as T;
    const artifact = await read<TabularModelArtifact>(TABULAR_MODEL_FILE);
    const trialFile = await read<TabularTrialFile>(TRIAL_FILE);
    const chosen = trialFile.candidate;
    // The candidates in the report: every trial that produced a model, in the order they ran.
    const candidateList: TabularCandidate[] = search.trials
      .filter((t) => t.status === 'SUCCEEDED')
      .map((t) => ({
        name: String(t.params.candidate) as CandidateName,
        params: Object.fromEntries(
          Object.entries(t.params).filter(([k]) => k !== 'candidate' && k !== 'family' && k !== 'config'),
        ),
        validLoss: Number(t.metrics?.validationLoss),
        validLossSE: Number(t.metrics?.validationLossSE ?? 0),
        validScore: Number(t.metrics?.validationAccuracy ?? t.metrics?.validationR2),
        trainMs: Number(t.metrics?.trainMs ?? 0),
        ...(typeof t.metrics?.iterations === 'number' ? { iterations: t.metrics.iterations } : {}),
        ...(typeof t.metrics?.stoppedAtRung === 'number' ? { stoppedAtRung: t.metrics.stoppedAtRung } : {}),
      }));
    const result = { artifact, chosen, candidates: candidateList, warnings: trialFile.warnings };
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
      datasetWarnings: carriedDatasetWarnings(report?.warnings ?? [], target, index.target),
      // How the model was chosen; the leaderboard lists the chosen trial first (`chosen: true`), then
      // the others by validation loss.
      selection: { rule: 'one_standard_error', statement: ONE_STANDARD_ERROR_RULE, trial: winner.index },
      leaderboard: search.leaderboard,
    };
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
      recipe: {
        task,
        target,
        chosen: result.chosen,
        candidates: result.candidates,
        trial: winner.index,
        final: true,
      },
      sizeBytes: files.reduce((s, f) => s + f.size, 0),
    });
    await this.jobs.update(ref, { bestMetric: result.chosen.validScore }, ctx.owner);
    // Measured for estimates (docs/jobs.md): only runs whose fits all ran here before the deadline;
    // sampled configurations are not candidates estimates know (neither fits nor overhead).
    const names = new Set<string>(tabularCandidates(options.tabularModel ?? 'auto', mode));
    const ranAll = search.ran.length === search.trials.length && search.resumedTrial === undefined;
    if (Date.now() < deadline && ranAll && !search.stoppedByBudget) {
      const sampledSeconds = search.trials
        .filter((t) => !names.has(String(t.params.candidate)))
        .reduce((a, t) => a + t.costSeconds, 0);
      const rows = recordThroughputRows({
        jobId: ctx.job.id,
        workerKind: `${ctx.job.queue}/js`,
        task: 'tabular',
        size: (index.columns ?? []).filter((c) => c !== target).length,
        trainSamples: train.length,
        fits: result.candidates
          .filter((c) => names.has(c.name))
          .map((c) => ({ candidate: c.name, epochs: 1, seconds: c.trainMs / 1000 })),
        wallSeconds: (performance.now() - startedAt) / 1000 - sampledSeconds,
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
      trials: search.trials.length,
      bestTrial: winner.index,
      ...(search.resumedTrial !== undefined ? { resumedTrial: search.resumedTrial } : {}),
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
