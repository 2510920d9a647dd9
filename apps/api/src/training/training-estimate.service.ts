import { Inject, Injectable } from '@nestjs/common';
import { JOBS, type TrainingMode } from '@modelsmith/contracts';
import { withTenant, type PrismaClient } from '@modelsmith/db';
import { APP_PRISMA } from '@modelsmith/db/nest';
import {
  estimateRecordTraining,
  estimateTraining,
  JobRouter,
  readQuotaUsage,
  ThroughputStore,
  type TrainingEstimate,
} from '@modelsmith/jobs';
import {
  builtinBackbones,
  chooseBackbone,
  inputFor,
  phasePlan,
  tabularCandidates,
  tabularTrialPlan,
  textTrialPlan,
} from '@modelsmith/ml/catalogue';
import { SMALL_TABLE_ROWS } from '@modelsmith/ml/tabular';
import { jobProblem } from '../jobs/job-problems';
import { TrainingJobsService, type TrainingJobRequest } from './training-jobs.service';

/** The ingestion default when a version's options do not say (libs/datasets ingest options). */
const DEFAULT_IMAGE_SIZE = 64;

export interface TrainingEstimateAnswer extends TrainingEstimate {
  dryRun: true;
  task: 'image-classification' | 'text-classification' | 'tabular';
  /** The image backbone; null for text and tabular jobs (their `phases` are the candidates they fit). */
  backbone: string | null;
  /** The image input; null for text and tabular jobs. */
  input: { height: number; width: number; channels: 1 | 3 } | null;
  /** Text and tabular: the size feature speeds are keyed and scaled by (text: classes; tabular: feature columns). */
  size?: { feature: 'classes' | 'features'; value: number };
  /** The queue the job would be routed to: estimates use throughput measured on that worker kind. */
  queue: string;
  mode: TrainingMode;
  budgetMinutes: number;
  samples: { train: number; validation: number; test: number };
  quota: { usedMinutes: number; limitMinutes: number; remainingMinutes: number; fits: boolean };
  /** Set when the estimate leaves something out (mode `auto`: the search's trials are not modelled). */
  note?: string;
}

/**
 * `POST /v1/jobs` with `dryRun: true` for image classification: the same checks as a real submit, then
 * the estimate (libs/jobs training-estimate.ts) from throughput measured on the worker kind the job
 * would be routed to; nothing is written or queued.
 */
@Injectable()
export class TrainingEstimateService {
  private readonly throughput: ThroughputStore;

  constructor(
    private readonly training: TrainingJobsService,
    private readonly router: JobRouter,
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
  ) {
    this.throughput = new ThroughputStore(db);
  }

  async estimate(tenantId: string, body: TrainingJobRequest): Promise<TrainingEstimateAnswer> {
    const version = await this.training.validate(tenantId, body);
    let queue: string;
    try {
      queue = await this.router.route(JOBS.train, body.options?.accelerator);
    } catch (e) {
      throw jobProblem(e);
    }
    if (body.task === 'text-classification' || body.task === 'tabular')
      return this.estimateRecords(tenantId, body, version, queue);
    const size = version.options.image?.size ?? DEFAULT_IMAGE_SIZE;
    const channels = version.options.image?.channels ?? 3;
    const classes = version.stats?.classes ?? [];
    const count = (k: 'train' | 'validation' | 'test') =>
      classes.reduce((s, c) => s + (c.splits?.[k] ?? (k === 'train' ? c.count : 0)), 0);
    const train = count('train');
    const validation = count('validation');
    const test = count('test') || validation || train;
    const shape = { height: size, width: size, channels, numClasses: classes.length, trainSamples: train };
    const backboneId = chooseBackbone(body.options?.backbone, shape);
    const spec = builtinBackbones().find((b) => b.id === backboneId);
    if (!spec) throw new Error(`backbone ${backboneId} passed validation but is not in the catalogue`);
    const mode = body.mode ?? 'auto';
    const input = inputFor(spec, shape);
    const budgetMinutes = body.budget?.maxMinutes ?? 60;
    const estimate = estimateTraining({
      backboneId,
      inputSize: Math.max(input.height, input.width),
      phases: phasePlan(spec, mode, body.options?.epochs),
      trainSamples: train,
      validationSamples: validation,
      testSamples: test,
      budgetMinutes,
      samples: await this.throughput.recent(queue, backboneId, input.channels),
    });
    return {
      dryRun: true,
      task: 'image-classification',
      backbone: backboneId,
      input,
      queue,
      mode,
      budgetMinutes,
      samples: { train, validation, test: count('test') },
      ...estimate,
      quota: await this.quota(tenantId, estimate.computeMinutes),
      ...(mode === 'auto'
        ? {
            note: "mode 'auto' searches: this estimates one run of the default recipe, not the search's trials; the search stops at the budget",
          }
        : {}),
    };
  }

  /**
   * Text and tabular jobs: the candidates their mode fits (libs/ml catalogue record-plans), each at the
   * speed measured for it on this worker kind (or the fallback), over the version's training rows.
   */
  private async estimateRecords(
    tenantId: string,
    body: TrainingJobRequest,
    version: Awaited<ReturnType<TrainingJobsService['validate']>>,
    queue: string,
  ): Promise<TrainingEstimateAnswer> {
    const task = body.task === 'tabular' ? 'tabular' : 'text';
    const mode = body.mode ?? 'auto';
    const budgetMinutes = body.budget?.maxMinutes ?? 60;
    const splits = splitCounts(version.stats);
    const columns = (version.report as { tabular?: { columns?: unknown[] } } | null)?.tabular?.columns;
    const size =
      task === 'text'
        ? { feature: 'classes' as const, value: version.stats?.classes.length ?? 0 }
        : { feature: 'features' as const, value: Math.max(1, (columns?.length ?? 2) - 1) };
    // Every trial of the job: the mode's candidates and, in mode 'auto', the sampled configurations.
    const maxTrials = body.budget?.maxTrials;
    const choice = body.options?.tabularModel ?? 'auto';
    const candidates =
      task === 'text'
        ? textTrialPlan(mode, body.options?.epochs, body.options?.textModel, maxTrials)
        : tabularTrialPlan(
            choice,
            mode,
            // As libs/ml trainTabular: large tables skip the small-table setting unless it is the only one.
            tabularCandidates(choice, mode).filter(
              (n, i) => n !== 'gbdt_small' || i === 0 || splits.train <= SMALL_TABLE_ROWS,
            ),
            maxTrials,
            // As the worker (tabularSlotRuns): the sampled settings only with enough validation rows.
            splits.validation,
          );
    const estimate = estimateRecordTraining({
      task,
      candidates,
      size: size.value,
      trainSamples: splits.train,
      totalRows: splits.train + splits.validation + splits.test,
      budgetMinutes,
      samples: await this.throughput.recentRecords(queue, task),
    });
    return {
      dryRun: true,
      task: body.task === 'tabular' ? 'tabular' : 'text-classification',
      backbone: null,
      input: null,
      size,
      queue,
      mode,
      budgetMinutes,
      samples: splits,
      ...estimate,
      quota: await this.quota(tenantId, estimate.computeMinutes),
      note:
        task === 'text'
          ? "text candidates run their full epochs unless measured runs of them all stopped early; in mode 'auto' the sampled linear trials are priced as words+chars/balanced; the model exists when the job ends"
          : "every candidate fitted once (boosting stops early on validation); in mode 'auto' the sampled GBDT trials are priced as gbdt; the model exists when the job ends",
    };
  }

  private async quota(tenantId: string, computeMinutes: number): Promise<TrainingEstimateAnswer['quota']> {
    const usage = await withTenant(this.db, tenantId, (tx) => readQuotaUsage(tx, tenantId));
    const remaining = Math.max(0, usage.limitMinutes - usage.usedMinutes);
    return {
      usedMinutes: Math.round(usage.usedMinutes * 10) / 10,
      limitMinutes: usage.limitMinutes,
      remainingMinutes: Math.round(remaining * 10) / 10,
      fits: computeMinutes <= remaining,
    };
  }
}

/** Rows per split from a record version's stats (`splits`, else its classes' split counts). */
function splitCounts(stats: { splits?: unknown; classes: { splits?: Record<string, unknown> }[] } | null): {
  train: number;
  validation: number;
  test: number;
} {
  const s = stats?.splits as Partial<Record<'train' | 'validation' | 'test', unknown>> | undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  if (s && typeof s === 'object')
    return { train: num(s.train), validation: num(s.validation), test: num(s.test) };
  const classes = stats?.classes ?? [];
  const sum = (k: string) => classes.reduce((a, c) => a + num(c.splits?.[k]), 0);
  return { train: sum('train'), validation: sum('validation'), test: sum('test') };
}
