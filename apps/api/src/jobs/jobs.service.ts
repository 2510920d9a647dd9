import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { JOBS, type JobDefinition } from '@modelsmith/contracts';
import type { Job, JobEvent } from '@modelsmith/db';
import {
  JobStateConflictError,
  JobStore,
  JobSubmitter,
  TrialStore,
  type Submission,
  type TypedTrial,
} from '@modelsmith/jobs';
import { notFound, ProblemError } from '@modelsmith/http';
import type { ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { page, type Page } from '../common/pagination';
import type { PageQueryDto } from '../common/pagination';
import type { CreateJobDto, ListJobsQueryDto } from './dto/job.dto';
import { jobProblem } from './job-problems';

/** Why a job has no output to download: still running, or ended without one (and why). */
function outputMissing(job: Job): string {
  switch (job.status) {
    case 'SUCCEEDED':
      return ' and produced no output file';
    case 'FAILED':
      return ` (${job.failureCode ?? 'JOB_FAILED'}: ${job.failureReason ?? 'no reason recorded'}); it has no output`;
    case 'CANCELLED':
      return '; it has no output';
    case 'QUEUED':
    case 'RUNNING':
      return '; its output is available once it has SUCCEEDED';
  }
}

@Injectable()
export class JobsService {
  constructor(
    private readonly store: JobStore,
    private readonly submitter: JobSubmitter,
    private readonly trials: TrialStore,
    @Inject(OBJECT_STORE) private readonly objects: ObjectStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A presigned URL of what a finished job produced (batch predictions); 409 until there is one. */
  async output(
    tenantId: string,
    id: string,
  ): Promise<{ url: string; expiresInSeconds: number; sizeBytes: number; fileName: string }> {
    const job = await this.get(tenantId, id);
    const key = (job.result as { outputKey?: unknown } | null)?.outputKey;
    if (job.status !== 'SUCCEEDED' || typeof key !== 'string') {
      throw new ProblemError({
        status: 409,
        code: 'CONFLICT',
        title: 'No output yet',
        detail: `job ${id} is ${job.status}${outputMissing(job)}`,
        extensions: {
          jobStatus: job.status,
          ...(job.failureCode ? { failureCode: job.failureCode, failureReason: job.failureReason } : {}),
        },
      });
    }
    const stat = await this.objects.stat(key);
    if (!stat) throw notFound('job output', id);
    const fileName = key.slice(key.lastIndexOf('/') + 1);
    const expires = this.config.S3_PRESIGN_EXPIRY_SECONDS;
    return {
      url: await this.objects.presignedGet(key, expires, { downloadName: fileName }),
      expiresInSeconds: expires,
      sizeBytes: stat.size,
      fileName,
    };
  }

  async create(tenantId: string, body: CreateJobDto): Promise<Job> {
    const options = body.options ? { ...body.options } : undefined;
    return this.submit(tenantId, JOBS.noop, {
      priority: body.priority ?? 0,
      accelerator: options?.accelerator,
      inputs: options ? { options } : {},
    });
  }

  /**
   * Accepts a job of any definition (libs/jobs JobSubmitter: inputs parsed, routed to the cpu or gpu
   * queue, quotas checked, row and `queued` event written, then enqueued), with its refusals as
   * problems: 422 UNPROCESSABLE (inputs, routing), 403 QUOTA_EXCEEDED, 429 RATE_LIMITED.
   */
  async submit<D extends JobDefinition>(tenantId: string, def: D, submission: Submission<D>): Promise<Job> {
    try {
      return await this.submitter.submit(tenantId, def, submission);
    } catch (e) {
      throw jobProblem(e);
    }
  }

  async get(tenantId: string, id: string): Promise<Job> {
    const job = await this.store.get(tenantId, id);
    if (!job) throw notFound('job', id);
    return job;
  }

  async list(tenantId: string, q: ListJobsQueryDto): Promise<Page<Job>> {
    const { status, kind, datasetVersionId, createdAfter, createdBefore } = q;
    return page(
      await this.store.list(
        tenantId,
        { status, kind, datasetVersionId, createdAfter, createdBefore },
        q.limit + 1,
        q.cursor,
      ),
      q.limit,
    );
  }

  async cancel(tenantId: string, id: string): Promise<Job> {
    try {
      const job = await this.store.requestCancel(tenantId, id);
      if (!job) throw notFound('job', id);
      return job;
    } catch (e) {
      if (e instanceof JobStateConflictError)
        throw new ProblemError({
          status: 409,
          code: 'CONFLICT',
          title: 'Job already finished',
          detail: e.message,
        });
      throw e;
    }
  }

  /** The job's search trials in index order (404 when the tenant has no such job). */
  async listTrials(tenantId: string, id: string, q: PageQueryDto): Promise<Page<TypedTrial>> {
    await this.get(tenantId, id);
    return page(await this.trials.list(tenantId, id, q.limit + 1, q.cursor), q.limit);
  }

  events(tenantId: string, id: string, after: number): Promise<JobEvent[]> {
    return this.store.events(tenantId, id, after);
  }
}
