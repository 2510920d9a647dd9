import { Injectable } from '@nestjs/common';
import type { Job, Task } from '@modelsmith/db';
import { DatasetVersionStore, MIN_TRAIN_IMAGES_PER_CLASS, type Accelerator } from '@modelsmith/jobs';
import { JOBS } from '@modelsmith/contracts';
import { builtinBackbones, type BackboneSpec } from '@modelsmith/ml/catalogue';
import { notFound, ProblemError } from '@modelsmith/http';
import { JobsService } from '../jobs/jobs.service';
import { assertTabularOptions, isTabularTask } from './tabular-options';
import type { CreateTrainingJobFields, TrainingOptionsDto } from './training-job.dto';

export { MIN_TRAIN_IMAGES_PER_CLASS };

/** The training tasks a job names, and the dataset task each trains on. */
export type TrainingTask = 'image-classification' | 'text-classification' | 'tabular';
const DATASET_TASK: Record<TrainingTask, Task | readonly Task[]> = {
  'image-classification': 'IMAGE_CLASSIFICATION',
  'text-classification': 'TEXT_CLASSIFICATION',
  // A `tabular` job trains a classifier or a regressor, as the dataset (and its target) is.
  tabular: ['TABULAR_CLASSIFICATION', 'TABULAR_REGRESSION'],
};

/** The training task of a dataset of each task (a tabular job trains a classifier or a regressor). */
const TRAINING_TASK: Record<Task, TrainingTask> = {
  IMAGE_CLASSIFICATION: 'image-classification',
  TEXT_CLASSIFICATION: 'text-classification',
  TABULAR_CLASSIFICATION: 'tabular',
  TABULAR_REGRESSION: 'tabular',
};

/**
 * The training task a job's `task` names: the training task names, and the dataset task names
 * `tabular-classification` / `tabular-regression` as `tabular` (the job's target decides which is
 * trained); undefined for `noop`.
 */
export function trainingTaskOf(task: string): TrainingTask | undefined {
  switch (task) {
    case 'image-classification':
    case 'text-classification':
    case 'tabular':
      return task;
    case 'tabular-classification':
    case 'tabular-regression':
      return 'tabular';
    default:
      return undefined;
  }
}

export type TrainingJobRequest = CreateTrainingJobFields & {
  /** Default image-classification. */
  task?: TrainingTask;
  priority?: number;
  options?: TrainingOptionsDto & { accelerator?: Accelerator };
};

type TrainableVersion = Extract<
  Awaited<ReturnType<DatasetVersionStore['checkTrainable']>>,
  { ok: true }
>['version'];

const unprocessable = (reason: string, detail: string, field?: string) =>
  new ProblemError({
    status: 422,
    code: 'UNPROCESSABLE',
    title: 'Training job rejected',
    detail,
    extensions: { reason, ...(field ? { field } : {}) },
  });

/**
 * Validates an image-, text- or tabular training job against its dataset version and the zoo's catalogue, then
 * queues it. The catalogue is free of TensorFlow.js: the API never loads it.
 */
@Injectable()
export class TrainingJobsService {
  private readonly backboneIds = builtinBackbones().map((b) => b.id);

  constructor(
    private readonly versions: DatasetVersionStore,
    private readonly jobs: JobsService,
  ) {}

  backbones(): BackboneSpec[] {
    return builtinBackbones();
  }

  async create(tenantId: string, body: TrainingJobRequest): Promise<Job> {
    const version = await this.validate(tenantId, body);
    const { accelerator, ...options } = body.options ?? {};
    return this.jobs.submit(tenantId, JOBS.train, {
      accelerator,
      priority: body.priority ?? 0,
      inputs: {
        datasetVersionId: version.id,
        mode: body.mode ?? 'auto',
        budget: {
          maxMinutes: body.budget?.maxMinutes ?? 60,
          ...(body.budget?.maxTrials !== undefined ? { maxTrials: body.budget.maxTrials } : {}),
        },
        options: { ...options },
      },
    });
  }

  /** The training task of a dataset version's dataset (for a job that names no task); 404 when absent. */
  async taskOfVersion(tenantId: string, datasetVersionId: string): Promise<TrainingTask> {
    const task = await this.versions.datasetTask(tenantId, datasetVersionId);
    if (!task) throw notFound('dataset version', datasetVersionId);
    return TRAINING_TASK[task];
  }

  /** The request's dataset version once it and the options passed every check (404 / 422 problems). */
  async validate(tenantId: string, body: TrainingJobRequest): Promise<TrainableVersion> {
    const task = body.task ?? 'image-classification';
    if (!body.datasetVersionId)
      throw unprocessable(
        'DATASET_VERSION_REQUIRED',
        `${task} jobs need a datasetVersionId`,
        'datasetVersionId',
      );
    const check = await this.versions.checkTrainable(tenantId, body.datasetVersionId, DATASET_TASK[task]);
    if (!check.ok) {
      switch (check.reason) {
        case 'NOT_FOUND':
          throw notFound('dataset version', body.datasetVersionId);
        case 'TASK_MISMATCH':
          throw unprocessable(
            'TASK_MISMATCH',
            `dataset version ${check.version.id} is a ${check.task.toLowerCase().replace(/_/g, '-')} dataset, not ${task}`,
            'datasetVersionId',
          );
        case 'NOT_READY': {
          const v = check.version;
          throw unprocessable(
            'DATASET_NOT_READY',
            `dataset version ${v.version} is ${v.status}${v.failureReason ? ` (${v.failureReason})` : ''}; wait until it is READY`,
            'datasetVersionId',
          );
        }
        case 'TOO_FEW_IMAGES':
          throw unprocessable(
            'TOO_FEW_IMAGES',
            `each class needs at least ${MIN_TRAIN_IMAGES_PER_CLASS} training ${task === 'text-classification' ? 'texts' : 'images'}; ${check.classes.map((c) => `\`${c.name}\` has ${c.train}`).join(', ')}`,
            'datasetVersionId',
          );
      }
    }
    const version = check.version;
    if (isTabularTask(version.dataset.task)) assertTabularOptions(version.report, body.options);
    const backbone = body.options?.backbone;
    if (task === 'text-classification' && backbone && backbone !== 'auto' && backbone !== 'text-linear')
      throw unprocessable(
        'UNKNOWN_BACKBONE',
        `text classification trains the text-linear model; backbone "${backbone}" is for images`,
        'options.backbone',
      );
    if (
      task === 'image-classification' &&
      backbone &&
      backbone !== 'auto' &&
      !this.backboneIds.includes(backbone)
    ) {
      throw unprocessable(
        'UNKNOWN_BACKBONE',
        `unknown backbone "${backbone}"; choose one of auto, ${this.backboneIds.join(', ')}`,
        'options.backbone',
      );
    }
    return version;
  }
}
