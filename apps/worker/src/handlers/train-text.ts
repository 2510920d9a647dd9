import { Logger } from '@nestjs/common';
import type { JOBS } from '@modelsmith/contracts';
import type { RecordShardIndex, ShardSource } from '@modelsmith/datasets';
import type { Prisma } from '@modelsmith/db';
import {
  ThroughputStore,
  type JobStore,
  type ModelStore,
  type TrainableDatasetVersion,
  type TrialStore,
} from '@modelsmith/jobs';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { textCandidatePlan } from '@modelsmith/ml/catalogue';
import { objectArtifactReader, objectArtifactWriter } from '../adapters/object-store-io';
import type { JobContext } from '../runtime/job-handler';
import { trialLedger } from '../training/search/trial-ledger';
import { searchTextClassification } from '../training/text-classification';
import { recordThroughputRows } from '../training/throughput-records';

const PROGRESS_EVERY_MS = 2_000;

/** One entry of a text job's metricHistory: an epoch of one candidate (trial). */
interface TextEpochRecord {
  phase: string;
  trial: number;
  epoch: number;
  loss: number;
  val_accuracy: number;
  val_macro_f1: number;
  seconds: number;
}

/**
 * The text-classification half of the TRAIN handler: runs the candidates as trials recorded in the
 * `trials` table (searchTextClassification), records per-epoch metrics and progress on the job,
 * writes evaluation.json and training-curves.json next to the exported model, and registers the
 * Model row (task TEXT_CLASSIFICATION, id = job id) with the trials' leaderboard in its report. A
 * trial keeps no checkpoint: an interrupted job runs its unfinished trial again, never a finished one.
 */
export class TextTrainJob {
  private readonly logger = new Logger('TrainText');

  constructor(
    private readonly store: ObjectStore,
    private readonly jobs: JobStore,
    private readonly models: ModelStore,
    private readonly trials: TrialStore,
  ) {}

  async run(
    ctx: JobContext<typeof JOBS.train>,
    version: TrainableDatasetVersion,
    index: RecordShardIndex,
    shards: ShardSource,
  ): Promise<Record<string, unknown>> {
    const { tenantId } = ctx.payload;
    const job = ctx.job;
    const startedAt = performance.now();
    const { mode, budget, options } = ctx.inputs;
    const modelId = job.id;
    const modelPrefix = keys.model(tenantId, modelId);
    const origin = (job.startedAt ?? new Date()).getTime();
    const deadline = budget.maxMinutes ? origin + budget.maxMinutes * 60_000 : undefined;
    const history: TextEpochRecord[] = [];
    let lastProgress = 0;
    let epochsSeen = 0;
    await ctx.progress({
      stage: 'training',
      percent: 1,
      message: 'text classifier: hashed n-gram TF-IDF + linear softmax',
    });
    const result = await searchTextClassification({
      index,
      shards,
      writer: objectArtifactWriter(this.store),
      reader: objectArtifactReader(this.store),
      ledger: trialLedger(this.trials, tenantId, job.id),
      trialPrefix: (i) => keys.jobTrialModel(tenantId, job.id, i),
      removeTrialModel: async (i) => {
        await this.store.deletePrefix(keys.jobTrialModel(tenantId, job.id, i));
      },
      modelPrefix,
      mode,
      textModel: options.textModel,
      epochs: options.epochs,
      ...(budget.maxTrials !== undefined ? { maxTrials: budget.maxTrials } : {}),
      seed: options.seed ?? 0,
      deadline,
      signal: ctx.signal,
      onTrial: (t) =>
        ctx.progress({ stage: 'training', message: t.message, data: { trial: t.index, status: t.status } }),
      onEpoch: async (log, of) => {
        epochsSeen += 1;
        history.push({
          phase: log.candidate,
          trial: log.trial,
          epoch: log.epoch,
          loss: log.loss,
          val_accuracy: log.valAccuracy,
          val_macro_f1: log.valMacroF1,
          seconds: log.elapsed,
        });
        if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = Date.now();
        await ctx.progress({
          stage: 'training',
          percent: Math.min(95, 1 + (94 * epochsSeen) / (of.candidates * of.maxEpochs)),
          message: `${log.candidate} epoch ${log.epoch + 1}: loss ${log.loss.toFixed(4)}, val_accuracy ${log.valAccuracy.toFixed(4)}`,
          data: { ...log },
        });
      },
    });
    const { report, manifest, search, candidate } = result;
    const winner = search.best;
    await ctx.progress({
      stage: 'evaluating',
      percent: 97,
      message: `trial ${winner.index} (${candidate.name}): test accuracy ${(report.accuracy * 100).toFixed(2)}% on ${report.numSamples} held-out texts`,
    });
    const fullReport = { ...report, leaderboard: search.leaderboard };
    await this.store.putBytes(
      keys.modelFile(tenantId, modelId, 'evaluation.json'),
      Buffer.from(JSON.stringify(fullReport, null, 2)),
      'application/json',
    );
    // The curves of this attempt's epochs; trials an earlier attempt finished keep theirs on their rows.
    await this.store.putBytes(
      keys.modelFile(tenantId, modelId, 'training-curves.json'),
      Buffer.from(JSON.stringify(history, null, 2)),
      'application/json',
    );
    await this.jobs.update(
      ctx.payload,
      { metricHistory: history as unknown as Prisma.InputJsonValue, bestMetric: report.accuracy },
      ctx.owner,
    );
    const family = candidate.kind === 'cnn' ? 'text-cnn' : 'text-linear';
    const { name: candidateName, kind: _kind, ...settings } = candidate;
    const stoppedByDeadline =
      search.stoppedByBudget || search.trials.some((t) => t.metrics?.stopped === 'budget');
    const recipe = {
      family,
      candidate: candidateName,
      ...settings,
      trial: winner.index,
      bestEpoch: winner.metrics?.bestEpoch ?? null,
      trials: search.trials.map((t) => ({
        trial: t.index,
        status: t.status,
        candidate: t.params.candidate,
        ...t.metrics,
        seconds: Math.round(t.costSeconds * 100) / 100,
      })),
      stoppedByDeadline,
      phase: 'text',
      final: true,
    };
    await this.models.saveTrained(tenantId, {
      id: modelId,
      jobId: job.id,
      datasetVersionId: version.id,
      name: `${version.dataset.name} (${family})`,
      backbone: family,
      artifactPrefix: modelPrefix,
      manifest,
      report: fullReport,
      recipe,
      sizeBytes: manifest.files.reduce((s, f) => s + f.size, 0),
      task: 'TEXT_CLASSIFICATION',
    });
    // Measured for estimates (docs/jobs.md): fits of this attempt that the budget did not cut.
    const ranHere = search.trials.filter(
      (t) => search.ran.includes(t.index) && t.status === 'SUCCEEDED' && t.metrics?.stopped !== 'budget',
    );
    if (!stoppedByDeadline && search.resumedTrial === undefined && ranHere.length === search.trials.length) {
      const caps = new Map(
        textCandidatePlan(mode, options.epochs, options.textModel).map((c) => [c.name, c.epochs]),
      );
      // Sampled configurations are not candidates estimates know: neither fits nor overhead.
      const planned = ranHere.filter((t) => caps.has(String(t.params.candidate)));
      const sampledSeconds = ranHere
        .filter((t) => !caps.has(String(t.params.candidate)))
        .reduce((a, t) => a + t.costSeconds, 0);
      const rows = recordThroughputRows({
        jobId: job.id,
        workerKind: `${job.queue}/js`,
        task: 'text',
        size: index.labels.length,
        trainSamples: result.samples.train,
        fits: planned.map((t) => ({
          candidate: String(t.params.candidate),
          epochs: Number(t.metrics?.epochs ?? 0),
          cap: caps.get(String(t.params.candidate)),
          seconds: Number(t.metrics?.trainSeconds ?? t.costSeconds),
        })),
        wallSeconds: (performance.now() - startedAt) / 1000 - sampledSeconds,
      });
      ctx.commitOnSuccess((tx) => ThroughputStore.record(tx, rows));
    }
    this.logger.log(`job ${job.id}: text model ${modelId} accuracy ${report.accuracy.toFixed(4)}`);
    return {
      modelId,
      status: stoppedByDeadline ? 'stopped-by-budget' : 'completed',
      backbone: family,
      candidate: candidate.name,
      accuracy: report.accuracy,
      macroF1: report.macro.f1,
      validationMacroF1: winner.metrics?.validationMacroF1 ?? null,
      testSamples: report.numSamples,
      samples: result.samples,
      epochs: history.length,
      trials: search.trials.length,
      bestTrial: winner.index,
      ...(search.resumedTrial !== undefined ? { resumedTrial: search.resumedTrial } : {}),
      trainSeconds: search.trials.reduce((a, t) => a + t.costSeconds, 0),
    };
  }
}
