import { Logger } from '@nestjs/common';
import type { JOBS } from '@modelsmith/contracts';
import type { RecordShardIndex, ShardSource } from '@modelsmith/datasets';
import type { Prisma } from '@modelsmith/db';
import {
  ThroughputStore,
  type JobStore,
  type ModelStore,
  type TrainableDatasetVersion,
} from '@modelsmith/jobs';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { textCandidatePlan } from '@modelsmith/ml/catalogue';
import { objectArtifactWriter } from '../adapters/object-store-io';
import type { JobContext } from '../runtime/job-handler';
import { runTextClassification } from '../training/text-classification';
import { recordThroughputRows } from '../training/throughput-records';

const PROGRESS_EVERY_MS = 2_000;

/** One entry of a text job's metricHistory: an epoch of one candidate. */
interface TextEpochRecord {
  phase: string;
  epoch: number;
  loss: number;
  val_accuracy: number;
  val_macro_f1: number;
  seconds: number;
}

/**
 * The text-classification half of the TRAIN handler: trains and evaluates (runTextClassification),
 * records per-epoch metrics and progress on the job, writes evaluation.json and training-curves.json
 * next to the exported model, and registers the Model row (task TEXT_CLASSIFICATION, id = job id).
 * Training takes seconds to minutes and keeps no checkpoint: an interrupted job starts over.
 */
export class TextTrainJob {
  private readonly logger = new Logger('TrainText');

  constructor(
    private readonly store: ObjectStore,
    private readonly jobs: JobStore,
    private readonly models: ModelStore,
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
    const result = await runTextClassification({
      index,
      shards,
      writer: objectArtifactWriter(this.store),
      modelPrefix,
      mode,
      textModel: options.textModel,
      epochs: options.epochs,
      seed: options.seed ?? 0,
      deadline,
      signal: ctx.signal,
      onEpoch: async (log, of) => {
        epochsSeen += 1;
        history.push({
          phase: log.candidate,
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
    const { report, manifest, training } = result;
    await ctx.progress({
      stage: 'evaluating',
      percent: 97,
      message: `${training.candidate.name}: test accuracy ${(report.accuracy * 100).toFixed(2)}% on ${report.numSamples} held-out texts`,
    });
    await this.store.putBytes(
      keys.modelFile(tenantId, modelId, 'evaluation.json'),
      Buffer.from(JSON.stringify(report, null, 2)),
      'application/json',
    );
    await this.store.putBytes(
      keys.modelFile(tenantId, modelId, 'training-curves.json'),
      Buffer.from(JSON.stringify(history, null, 2)),
      'application/json',
    );
    await this.jobs.update(ctx.payload, {
      metricHistory: history as unknown as Prisma.InputJsonValue,
      bestMetric: report.accuracy,
    });
    const family = training.classifier.algorithm === 'text-cnn' ? 'text-cnn' : 'text-linear';
    const { name: candidateName, kind: _kind, ...settings } = training.candidate;
    const recipe = {
      family,
      candidate: candidateName,
      ...settings,
      bestEpoch: training.bestEpoch + 1,
      trials: training.trials,
      stoppedByDeadline: training.stoppedByDeadline,
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
      report: { ...report },
      recipe,
      sizeBytes: manifest.files.reduce((s, f) => s + f.size, 0),
      task: 'TEXT_CLASSIFICATION',
    });
    // Measured for estimates (docs/jobs.md): a run cut by its budget is not representative.
    if (!training.stoppedByDeadline) {
      const caps = new Map(
        textCandidatePlan(mode, options.epochs, options.textModel).map((c) => [c.name, c.epochs]),
      );
      const rows = recordThroughputRows({
        jobId: job.id,
        workerKind: `${job.queue}/js`,
        task: 'text',
        size: index.labels.length,
        trainSamples: result.samples.train,
        fits: training.trials.map((t) => ({
          candidate: t.candidate,
          epochs: t.epochs,
          cap: caps.get(t.candidate),
          seconds: t.seconds,
        })),
        wallSeconds: (performance.now() - startedAt) / 1000,
      });
      ctx.commitOnSuccess((tx) => ThroughputStore.record(tx, rows));
    }
    this.logger.log(`job ${job.id}: text model ${modelId} accuracy ${report.accuracy.toFixed(4)}`);
    return {
      modelId,
      status: training.stoppedByDeadline ? 'stopped-by-budget' : 'completed',
      backbone: family,
      candidate: training.candidate.name,
      accuracy: report.accuracy,
      macroF1: report.macro.f1,
      testSamples: report.numSamples,
      samples: result.samples,
      epochs: history.length,
      trainSeconds: training.seconds,
    };
  }
}
