import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@modelsmith/config';
import { JOBS, type JobDefinition } from '@modelsmith/contracts';
import { APP_PRISMA, withTenant, type Job, type JobEvent, type Prisma, type PrismaClient } from '@modelsmith/db';
import { JobDispatcher, JobRouter, JobStateConflictError, JobStore, type Accelerator, type NewJob } from '@modelsmith/jobs';
import { notFound, ProblemError } from '@modelsmith/http';
import { OBJECT_STORE, type ObjectStore } from '@modelsmith/storage';
import { page, type Page } from '../common/pagination';
import type { CreateJobDto, ListJobsQueryDto } from './dto/job.dto';
import { jobProblem } from './job-problems';

export interface SubmitJob extends Omit<NewJob, 'kind' | 'queue'> {
  accelerator?: Accelerator;
}

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
  private readonly logger = new Logger('Jobs');

  constructor(
    private readonly store: JobStore,
    private readonly dispatcher: JobDispatcher,
    private readonly router: JobRouter,
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
    @Inject(OBJECT_STORE) private readonly objects: ObjectStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A presigned URL of what a finished job produced (batch predictions); 409 until there is one. */
  async output(tenantId: string, id: string): Promise<{ url: string; expiresInSeconds: number; sizeBytes: number; fileName: string }> {
    const job = await this.get(tenantId, id);
    const key = (job.result as { outputKey?: unknown } | null)?.outputKey;
    if (job.status !== 'SUCCEEDED' || typeof key !== 'string') {
      throw new ProblemError({
        status: 409,
        code: 'CONFLICT',
        title: 'No output yet',
        detail: `job ${id} is ${job.status}${outputMissing(job)}`,
        extensions: { jobStatus: job.status, ...(job.failureCode ? { failureCode: job.failureCode, failureReason: job.failureReason } : {}) },
      });
    }
    const stat = await this.objects.stat(key);
    if (!stat) throw notFound('job output', id);
    const fileName = key.slice(key.lastIndexOf('/') + 1);
    const expires = this.config.S3_PRESIGN_EXPIRY_SECONDS;
    return { url: await this.objects.presignedGet(key, expires, { downloadName: fileName }), expiresInSeconds: expires, sizeBytes: stat.size, fileName };
  }

  async create(tenantId: string, body: CreateJobDto): Promise<Job> {
    const options = body.options ? { ...body.options } : undefined;
    return this.submit(tenantId, JOBS.noop, {
      priority: body.priority ?? 0,
      accelerator: options?.accelerator,
      ...(options ? { options } : {}),
    });
  }

  /**
   * Accepts a job of any definition: routes it to the cpu or gpu queue, checks the tenant's quotas
   * (403 QUOTA_EXCEEDED, 429 RATE_LIMITED), writes the row, then enqueues it. If enqueueing fails the
   * job is accepted all the same and the reconciler enqueues it later.
   */
  async submit(tenantId: string, def: JobDefinition, input: SubmitJob): Promise<Job> {
    const { accelerator, ...rest } = input;
    let job: Job;
    try {
      const queue = await this.router.route(def, accelerator ?? 'auto');
      job = await this.store.create(tenantId, { ...rest, kind: def.kind, queue }, { enforceQuota: true });
    } catch (e) {
      throw jobProblem(e);
    }
    try {
      await this.dispatcher.enqueue(job);
    } catch (e) {
      this.logger.warn(`job ${job.id} accepted but not enqueued yet (${e instanceof Error ? e.message : String(e)}); the reconciler will retry`);
    }
    return (await this.store.get(tenantId, job.id)) ?? job;
  }

  async get(tenantId: string, id: string): Promise<Job> {
    const job = await this.store.get(tenantId, id);
    if (!job) throw notFound('job', id);
    return job;
  }

  list(tenantId: string, q: ListJobsQueryDto): Promise<Page<Job>> {
    const createdAt: Prisma.DateTimeFilter = {
      ...(q.createdAfter ? { gte: q.createdAfter } : {}),
      ...(q.createdBefore ? { lt: q.createdBefore } : {}),
    };
    const where: Prisma.JobWhereInput = {
      ...(q.status ? { status: q.status } : {}),
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.datasetVersionId ? { datasetVersionId: q.datasetVersionId } : {}),
      ...(q.createdAfter || q.createdBefore ? { createdAt } : {}),
    };
    return withTenant(this.db, tenantId, async (tx) => {
      const rows = await tx.job.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: q.limit + 1,
        ...(q.cursor ? { cursor: { id: q.cursor }, skip: 1 } : {}),
      });
      return page(rows, q.limit);
    });
  }

  async cancel(tenantId: string, id: string): Promise<Job> {
    try {
      const job = await this.store.requestCancel(tenantId, id);
      if (!job) throw notFound('job', id);
      return job;
    } catch (e) {
      if (e instanceof JobStateConflictError) throw new ProblemError({ status: 409, code: 'CONFLICT', title: 'Job already finished', detail: e.message });
      throw e;
    }
  }

  events(tenantId: string, id: string, after: number): Promise<JobEvent[]> {
    return this.store.events(tenantId, id, after);
  }
}
