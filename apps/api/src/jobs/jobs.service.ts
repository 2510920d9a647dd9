import { Inject, Injectable, Logger } from '@nestjs/common';
import { JOBS, type JobDefinition } from '@modelsmith/contracts';
import { APP_PRISMA, withTenant, type Job, type JobEvent, type Prisma, type PrismaClient } from '@modelsmith/db';
import { JobDispatcher, JobRouter, JobStateConflictError, JobStore, type Accelerator, type NewJob } from '@modelsmith/jobs';
import { notFound, ProblemError } from '@modelsmith/http';
import { page, type Page } from '../common/pagination';
import type { CreateJobDto, ListJobsQueryDto } from './dto/job.dto';
import { jobProblem } from './job-problems';

export interface SubmitJob extends Omit<NewJob, 'kind' | 'queue'> {
  accelerator?: Accelerator;
}

@Injectable()
export class JobsService {
  private readonly logger = new Logger('Jobs');

  constructor(
    private readonly store: JobStore,
    private readonly dispatcher: JobDispatcher,
    private readonly router: JobRouter,
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
  ) {}

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
