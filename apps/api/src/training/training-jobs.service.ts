import { Inject, Injectable } from '@nestjs/common';
import { withTenant, type Job, type PrismaClient } from '@modelsmith/db';
import { APP_PRISMA } from '@modelsmith/db/nest';
import type { Accelerator } from '@modelsmith/jobs';
import { JOBS } from '@modelsmith/contracts';
import { builtinBackbones, type BackboneSpec } from '@modelsmith/ml/catalogue';
import { notFound, ProblemError } from '@modelsmith/http';
import { JobsService } from '../jobs/jobs.service';
import type { CreateTrainingJobFields, TrainingOptionsDto } from './training-job.dto';

/** Fewest training images per class the platform accepts for a training job. */
export const MIN_TRAIN_IMAGES_PER_CLASS = 5;

const unprocessable = (reason: string, detail: string, field?: string) =>
  new ProblemError({ status: 422, code: 'UNPROCESSABLE', title: 'Training job rejected', detail, extensions: { reason, ...(field ? { field } : {}) } });

interface VersionStats {
  classes?: { name: string; count: number; splits?: { train?: number } }[];
}

/**
 * Validates an image-classification job against its dataset version and the zoo's catalogue, then
 * queues it. The catalogue is free of TensorFlow.js: the API never loads it.
 */
@Injectable()
export class TrainingJobsService {
  private readonly backboneIds = builtinBackbones().map((b) => b.id);

  constructor(
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
    private readonly jobs: JobsService,
  ) {}

  backbones(): BackboneSpec[] {
    return builtinBackbones();
  }

  async create(tenantId: string, body: CreateTrainingJobFields & { priority?: number; options?: TrainingOptionsDto & { accelerator?: Accelerator } }): Promise<Job> {
    if (!body.datasetVersionId) throw unprocessable('DATASET_VERSION_REQUIRED', 'image-classification jobs need a datasetVersionId', 'datasetVersionId');
    const version = await withTenant(this.db, tenantId, (tx) =>
      tx.datasetVersion.findUnique({ where: { id: body.datasetVersionId! }, include: { dataset: { select: { task: true, deletedAt: true } } } }),
    );
    if (!version || version.dataset.deletedAt) throw notFound('dataset version', body.datasetVersionId);
    if (version.dataset.task !== 'IMAGE_CLASSIFICATION') {
      throw unprocessable('TASK_MISMATCH', `dataset version ${version.id} is a ${version.dataset.task} dataset, not image classification`, 'datasetVersionId');
    }
    if (version.status !== 'READY') {
      throw unprocessable('DATASET_NOT_READY', `dataset version ${version.version} is ${version.status}${version.failureReason ? ` (${version.failureReason})` : ''}; wait until it is READY`, 'datasetVersionId');
    }
    const small = ((version.stats as VersionStats | null)?.classes ?? []).filter((c) => (c.splits?.train ?? c.count) < MIN_TRAIN_IMAGES_PER_CLASS);
    if (small.length) {
      throw unprocessable(
        'TOO_FEW_IMAGES',
        `each class needs at least ${MIN_TRAIN_IMAGES_PER_CLASS} training images; ${small.map((c) => `\`${c.name}\` has ${c.splits?.train ?? c.count}`).join(', ')}`,
        'datasetVersionId',
      );
    }
    const backbone = body.options?.backbone;
    if (backbone && backbone !== 'auto' && !this.backboneIds.includes(backbone)) {
      throw unprocessable('UNKNOWN_BACKBONE', `unknown backbone "${backbone}"; choose one of auto, ${this.backboneIds.join(', ')}`, 'options.backbone');
    }
    const { accelerator, ...options } = body.options ?? {};
    return this.jobs.submit(tenantId, JOBS.train, {
      accelerator,
      priority: body.priority ?? 0,
      datasetVersionId: version.id,
      mode: body.mode ?? 'balanced',
      budget: { maxMinutes: body.budget?.maxMinutes ?? 60, maxTrials: body.budget?.maxTrials ?? 1 },
      options: { ...options },
    });
  }
}
