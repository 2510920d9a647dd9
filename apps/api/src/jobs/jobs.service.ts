import { Inject, Injectable } from '@nestjs/common';
import { APP_PRISMA, withTenant, type Job, type JobEvent, type PrismaClient } from '@modelsmith/db';
import { JobDispatcher, JobStateConflictError, JobStore } from '@modelsmith/jobs';
import { notFound, ProblemError } from '../common/problem';
import { page, type Page } from '../common/pagination';
import type { CreateJobDto, ListJobsQueryDto } from './dto/job.dto';

@Injectable()
export class JobsService {
  constructor(
    private readonly store: JobStore,
    private readonly dispatcher: JobDispatcher,
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
  ) {}

  /** Row first, then the queue; if enqueueing fails the reconciler picks the row up later. */
  async create(tenantId: string, body: CreateJobDto): Promise<Job> {
    const job = await this.store.create(tenantId, { kind: 'NOOP', queue: 'cpu', priority: body.priority ?? 0 });
    try {
      await this.dispatcher.enqueue(job);
    } catch {
      // Accepted all the same: the job row exists and the reconciler re-enqueues it.
    }
    return (await this.store.get(tenantId, job.id)) ?? job;
  }

  async get(tenantId: string, id: string): Promise<Job> {
    const job = await this.store.get(tenantId, id);
    if (!job) throw notFound('job', id);
    return job;
  }

  list(tenantId: string, q: ListJobsQueryDto): Promise<Page<Job>> {
    return withTenant(this.db, tenantId, async (tx) => {
      const rows = await tx.job.findMany({
        where: q.status ? { status: q.status } : {},
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
