import type { Command } from 'commander';
import { watchJob, type Job, type ModelsmithClient, type Schemas } from '@modelsmith/sdk';
import { contextOf, positiveInt, UsageError } from '../context';
import { seconds, table, type Output } from '../output';

type CreateJob = Schemas['CreateJobDto'];

/** The process exit code a job's outcome maps to: 0 succeeded, 1 failed, 2 cancelled. */
export function jobExitCode(job: Pick<Job, 'status'>): number {
  return job.status === 'SUCCEEDED' ? 0 : job.status === 'CANCELLED' ? 2 : 1;
}

/**
 * Follows a job to its end with a progress bar (percent, stage, ETA) on a terminal, or one line per
 * event otherwise; Ctrl-C stops watching, not the job.
 */
export async function followWithBar(
  c: ModelsmithClient,
  out: Output,
  jobId: string,
  label: string,
): Promise<Job> {
  const bar = out.bar(label, 100, 'percent');
  const interactive = process.stderr.isTTY;
  try {
    return await watchJob(c, jobId, {
      onJob: (j) =>
        bar.update(Math.round(j.percent ?? 0), {
          stage: j.stage ?? j.status.toLowerCase(),
          eta_text: seconds(j.etaSeconds),
        }),
      onEvent: (e) => {
        if (interactive) return;
        const pct = e.percent === null || e.percent === undefined ? '' : ` ${Math.round(e.percent)}%`;
        out.note(
          `[${label}] ${e.type}${e.stage ? ` ${e.stage}` : ''}${pct}${e.message ? `: ${e.message}` : ''}`,
        );
      },
    });
  } finally {
    bar.stop();
  }
}

interface TrainFlags {
  mode?: string;
  maxMinutes?: number;
  maxTrials?: number;
  backbone?: string;
  epochs?: number;
  batchSize?: number;
  learningRate?: string;
  seed?: number;
  augmentation?: string;
  task?: string;
  watch?: boolean;
}

/** The tasks a job can train: the API's job tasks (from its generated schema) but the diagnostic `noop`. */
type TrainTask = Exclude<NonNullable<CreateJob['task']>, 'noop'>;
/** Every key is required, so a task the API adds (after `npm run sdk:generate`) fails to compile here until listed. */
const TRAIN_TASK_KEYS: Record<TrainTask, true> = {
  'image-classification': true,
  'text-classification': true,
  tabular: true,
  'tabular-classification': true,
  'tabular-regression': true,
};
/** What `train --task` accepts: the training tasks and the dataset task names (as the API does). */
export const TRAIN_TASKS = Object.keys(TRAIN_TASK_KEYS) as readonly TrainTask[];

export function registerJobs(program: Command): void {
  program
    .command('train <datasetVersionId>')
    .description('start a training job on a READY dataset version')
    .option(
      '--task <task>',
      `what to train: ${TRAIN_TASKS.join(', ')} (tabular-* train as tabular: the target decides); default the dataset version's task`,
    )
    .option('--mode <mode>', 'auto (search), fast, balanced or best (the API default, auto, when omitted)')
    .option(
      '--max-minutes <n>',
      'wall-clock budget; the best model so far is kept',
      positiveInt('--max-minutes'),
    )
    .option('--max-trials <n>', 'upper bound on search trials', positiveInt('--max-trials'))
    .option('--backbone <id>', "a zoo backbone (modelsmith backbones) or 'auto'")
    .option('--epochs <n>', 'override the recipe', positiveInt('--epochs'))
    .option('--batch-size <n>', 'override the recipe', positiveInt('--batch-size'))
    .option('--learning-rate <lr>', 'override the recipe')
    .option('--seed <n>', 'random seed', positiveInt('--seed'))
    .option('--augmentation <level>', 'none, light or auto')
    .option('--watch', 'follow the job with a progress bar; exit code 0 succeeded, 1 failed, 2 cancelled')
    .action(async (datasetVersionId: string, o: TrainFlags, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      if (o.task !== undefined && !(TRAIN_TASKS as readonly string[]).includes(o.task))
        throw new UsageError(
          `--task must be one of ${TRAIN_TASKS.join(', ')} (or omitted: the dataset version's task); got "${o.task}"`,
        );
      const c = await client();
      const options: Record<string, unknown> = {};
      if (o.backbone) options.backbone = o.backbone;
      if (o.epochs) options.epochs = o.epochs;
      if (o.batchSize) options.batchSize = o.batchSize;
      if (o.learningRate) {
        const lr = Number(o.learningRate);
        if (!Number.isFinite(lr) || lr <= 0)
          throw new UsageError('--learning-rate must be a positive number');
        options.learningRate = lr;
      }
      if (o.seed) options.seed = o.seed;
      if (o.augmentation) options.augmentation = o.augmentation;
      const budget: Record<string, number> = {};
      if (o.maxMinutes) budget.maxMinutes = o.maxMinutes;
      if (o.maxTrials) budget.maxTrials = o.maxTrials;
      const body = {
        ...(o.task ? { task: o.task } : {}),
        datasetVersionId,
        ...(o.mode ? { mode: o.mode } : {}),
        ...(Object.keys(budget).length ? { budget } : {}),
        ...(Object.keys(options).length ? { options } : {}),
      } as unknown as CreateJob;
      const job = await c.ok(c.api.POST('/v1/jobs', { body }));
      out.note(`job ${job.id} ${job.status.toLowerCase()}`);
      if (!o.watch) return out.result(job, (j: Job) => j.id);
      const end = await followWithBar(c, out, job.id, 'train');
      out.result(end, (j: Job) => describeEnd(j));
      process.exitCode = jobExitCode(end);
    });

  const jobs = program.command('jobs').description('list, follow and cancel jobs');
  jobs
    .command('list')
    .option('--status <status>', 'QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED')
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 20)
    .action(async (o: { status?: string; limit: number }, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      const query = { limit: o.limit, ...(o.status ? { status: o.status } : {}) } as never;
      const page = await c.ok(c.api.GET('/v1/jobs', { params: { query } }));
      out.result(page, (p: typeof page) =>
        table(p.items, ['id', 'kind', 'status', 'percent', 'bestMetric', 'createdAt']),
      );
    });
  jobs.command('get <jobId>').action(async (id: string, _o: unknown, cmd: Command) => {
    const { out, client } = contextOf(cmd);
    const c = await client();
    out.result(await c.ok(c.api.GET('/v1/jobs/{id}', { params: { path: { id } } })));
  });
  jobs
    .command('watch <jobId>')
    .description('follow a job until it ends; exit code 0 succeeded, 1 failed, 2 cancelled')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      const end = await followWithBar(c, out, id, 'job');
      out.result(end, (j: Job) => describeEnd(j));
      process.exitCode = jobExitCode(end);
    });
  jobs.command('cancel <jobId>').action(async (id: string, _o: unknown, cmd: Command) => {
    const { out, client } = contextOf(cmd);
    const c = await client();
    const j = await c.ok(c.api.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } }));
    out.result(j, () => `cancel requested for ${id}`);
  });
}

/**
 * How long a finished job took: its wall time (started to finished), and its compute seconds beside it
 * when they differ (a search's parallel trials add up to more than the wall time, a retried job's
 * attempts to less).
 */
export function tookOf(j: Pick<Job, 'startedAt' | 'finishedAt' | 'computeSeconds'>): string {
  const wall =
    j.startedAt && j.finishedAt
      ? (Date.parse(String(j.finishedAt)) - Date.parse(String(j.startedAt))) / 1000
      : Number.NaN;
  if (!Number.isFinite(wall) || wall < 0) return j.computeSeconds ? ` in ${seconds(j.computeSeconds)}` : '';
  const compute =
    j.computeSeconds && Math.abs(j.computeSeconds - wall) >= 1
      ? ` (${seconds(j.computeSeconds)} of compute)`
      : '';
  return ` in ${seconds(wall)}${compute}`;
}

export function describeEnd(j: Job): string {
  const took = tookOf(j);
  if (j.status === 'SUCCEEDED') {
    const r = (j.result ?? {}) as Record<string, unknown>;
    const acc =
      typeof r.accuracy === 'number'
        ? `, test accuracy ${(r.accuracy * 100).toFixed(1)}%`
        : typeof r.r2 === 'number'
          ? `, test R² ${r.r2.toFixed(3)}`
          : '';
    const model = typeof r.modelId === 'string' ? `, model ${r.modelId}` : '';
    return `job ${j.id} succeeded${took}${acc}${model}`;
  }
  return `job ${j.id} ${j.status.toLowerCase()}${took}${j.failureCode ? `: ${j.failureCode}` : ''}${
    j.failureReason ? ` (${j.failureReason})` : ''
  }`;
}
