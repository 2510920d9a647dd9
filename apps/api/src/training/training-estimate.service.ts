import { Inject, Injectable } from '@nestjs/common';
import { JOBS, type TrainingMode } from '@modelsmith/contracts';
import { withTenant, type PrismaClient } from '@modelsmith/db';
import { APP_PRISMA } from '@modelsmith/db/nest';
import {
  estimateTraining,
  JobRouter,
  readQuotaUsage,
  ThroughputStore,
  type TrainingEstimate,
} from '@modelsmith/jobs';
import { builtinBackbones, chooseBackbone, inputFor, phasePlan } from '@modelsmith/ml/catalogue';
import { jobProblem } from '../jobs/job-problems';
import { TrainingJobsService, type TrainingJobRequest } from './training-jobs.service';

/** The ingestion default when a version's options do not say (libs/datasets ingest options). */
const DEFAULT_IMAGE_SIZE = 64;

export interface TrainingEstimateAnswer extends TrainingEstimate {
  dryRun: true;
  task: 'image-classification';
  backbone: string;
  input: { height: number; width: number; channels: 1 | 3 };
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
    const usage = await withTenant(this.db, tenantId, (tx) => readQuotaUsage(tx, tenantId));
    const remaining = Math.max(0, usage.limitMinutes - usage.usedMinutes);
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
      quota: {
        usedMinutes: Math.round(usage.usedMinutes * 10) / 10,
        limitMinutes: usage.limitMinutes,
        remainingMinutes: Math.round(remaining * 10) / 10,
        fits: estimate.computeMinutes <= remaining,
      },
      ...(mode === 'auto'
        ? {
            note: "mode 'auto' searches: this estimates one run of the default recipe, not the search's trials; the search stops at the budget",
          }
        : {}),
    };
  }
}
