import { z } from 'zod';
import { withTenant, type PrismaClient, type Trial } from '@modelsmith/db';
import { readColumn } from './stored-json';

/** A trial's configuration: the searched parameters and its place in the search (config, rung, epochs). */
export const trialParamsSchema = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.null()]),
);
export type TrialParams = z.infer<typeof trialParamsSchema>;

/** What a finished trial measured (validation metrics; `error` when it failed). */
export const trialMetricsSchema = z.record(z.string(), z.union([z.number(), z.string(), z.null()]));
export type TrialMetrics = z.infer<typeof trialMetricsSchema>;

/** Per-epoch metrics of the trial's run (EpochLog plus its phase). */
export const trialCurvesSchema = z.array(
  z.object({ epoch: z.number(), phase: z.string().optional() }).catchall(z.union([z.number(), z.string()])),
);
export type TrialCurves = z.infer<typeof trialCurvesSchema>;

export type TypedTrial = Omit<Trial, 'params' | 'metrics' | 'curves'> & {
  params: TrialParams;
  metrics: TrialMetrics | null;
  curves: TrialCurves | null;
};

export type FinishedTrialStatus = 'SUCCEEDED' | 'FAILED' | 'PRUNED';

function typed(t: Trial): TypedTrial {
  const where = (column: string) => ({ table: 'trials', column, id: t.id });
  return {
    ...t,
    params: readColumn(trialParamsSchema, t.params, where('params')) ?? {},
    metrics: readColumn(trialMetricsSchema, t.metrics, where('metrics')),
    curves: readColumn(trialCurvesSchema, t.curves, where('curves')),
  };
}

/**
 * Trial rows of a search job, keyed by (job, index). Postgres is their source of truth: a trial is
 * RUNNING from its start until it is recorded SUCCEEDED, FAILED or PRUNED, and a finished trial is
 * never written again, so a restarted search knows exactly which trials it must not re-run. Every
 * method runs inside `withTenant` (row-level security): another tenant's trials behave as absent.
 */
export class TrialStore {
  constructor(private readonly db: PrismaClient) {}

  /** Every trial of a job, in index order. */
  async all(tenantId: string, jobId: string): Promise<TypedTrial[]> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx.trial.findMany({ where: { jobId }, orderBy: { index: 'asc' } }),
    );
    return rows.map(typed);
  }

  /** Trial `index` of a job, or null. */
  async get(tenantId: string, jobId: string, index: number): Promise<TypedTrial | null> {
    const row = await withTenant(this.db, tenantId, (tx) => tx.trial.findFirst({ where: { jobId, index } }));
    return row ? typed(row) : null;
  }

  /** Up to `take` trials of a job in index order, after `cursor` (a trial id). */
  async list(tenantId: string, jobId: string, take: number, cursor?: string): Promise<TypedTrial[]> {
    const rows = await withTenant(this.db, tenantId, async (tx) => {
      if (cursor && !(await tx.trial.findFirst({ where: { id: cursor, jobId }, select: { id: true } })))
        return [];
      return tx.trial.findMany({
        where: { jobId },
        orderBy: [{ index: 'asc' }],
        take,
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      });
    });
    return rows.map(typed);
  }

  /**
   * Records that trial `index` of the job runs with `params` (RUNNING, started now). Idempotent: an
   * existing row (a RUNNING trial resumed after a crash, or a finished one) is returned unchanged.
   */
  async start(
    tenantId: string,
    jobId: string,
    index: number,
    params: TrialParams,
    status: 'RUNNING' | 'PENDING' = 'RUNNING',
  ): Promise<TypedTrial> {
    const row = await withTenant(this.db, tenantId, (tx) =>
      tx.trial.upsert({
        where: { jobId_index: { jobId, index } },
        create: {
          tenantId,
          jobId,
          index,
          status,
          params: params,
          ...(status === 'RUNNING' ? { startedAt: new Date() } : {}),
        },
        update: {},
      }),
    );
    return typed(row);
  }

  /**
   * A worker takes trial `index` (a PENDING or RUNNING row: a RUNNING one is a trial whose earlier
   * worker died; it resumes from its checkpoints): RUNNING, `workerId` recorded. Null when the row is
   * missing or already finished (a duplicate delivery: the trial must not run again).
   */
  async claim(tenantId: string, jobId: string, index: number, workerId: string): Promise<TypedTrial | null> {
    const row = await withTenant(this.db, tenantId, async (tx) => {
      const t = await tx.trial.findFirst({ where: { jobId, index } });
      if (!t || (t.status !== 'PENDING' && t.status !== 'RUNNING')) return null;
      // The status is checked again by the UPDATE itself: a finish committed between the read above
      // and this write (the worker that lost the trial's queue lock finishing it as it is re-delivered)
      // makes it match no row, instead of turning the finished trial back into a RUNNING one.
      const claimed = await tx.trial.updateMany({
        where: { id: t.id, status: { in: ['PENDING', 'RUNNING'] } },
        data: { status: 'RUNNING', workerId, startedAt: t.startedAt ?? new Date() },
      });
      return claimed.count === 1 ? tx.trial.findUnique({ where: { id: t.id } }) : null;
    });
    return row ? typed(row) : null;
  }

  /**
   * Progress of a RUNNING trial: its curves so far and `costSeconds` more of measured cost. With
   * `workerId`, only while that worker holds the trial (its last claimant).
   */
  async progress(
    tenantId: string,
    jobId: string,
    index: number,
    p: { curves: TrialCurves; costSeconds: number; workerId?: string },
  ): Promise<void> {
    await withTenant(this.db, tenantId, (tx) =>
      tx.trial.updateMany({
        where: {
          jobId,
          index,
          status: 'RUNNING',
          ...(p.workerId !== undefined ? { workerId: p.workerId } : {}),
        },
        data: {
          curves: p.curves,
          costSeconds: { increment: Math.max(0, p.costSeconds) },
        },
      }),
    );
  }

  /**
   * Records a RUNNING trial's end (once: a finished trial is not changed; returns false then).
   * `costSeconds` is the cost not yet reported through `progress`. With `workerId` (a worker
   * training a dispatched trial), only while that worker holds the trial: a worker that lost it to
   * another one's claim (its queue lock expired while it was starved) does not record its end.
   */
  async finish(
    tenantId: string,
    jobId: string,
    index: number,
    f: {
      status: FinishedTrialStatus;
      metrics: TrialMetrics;
      curves?: TrialCurves;
      costSeconds: number;
      artifactPrefix?: string;
      workerId?: string;
    },
  ): Promise<boolean> {
    const r = await withTenant(this.db, tenantId, (tx) =>
      tx.trial.updateMany({
        where: {
          jobId,
          index,
          status: { in: ['RUNNING', 'PENDING'] },
          ...(f.workerId !== undefined ? { workerId: f.workerId } : {}),
        },
        data: {
          status: f.status,
          metrics: f.metrics,
          ...(f.curves ? { curves: f.curves } : {}),
          costSeconds: { increment: Math.max(0, f.costSeconds) },
          ...(f.artifactPrefix ? { artifactPrefix: f.artifactPrefix } : {}),
          finishedAt: new Date(),
        },
      }),
    );
    return r.count === 1;
  }

  /** Records that trial `index`'s exported model was deleted (retention): `artifactPrefix` becomes null. */
  async releaseArtifacts(tenantId: string, jobId: string, index: number): Promise<void> {
    await withTenant(this.db, tenantId, (tx) =>
      tx.trial.updateMany({ where: { jobId, index }, data: { artifactPrefix: null } }),
    );
  }

  /** Marks trial `index` as the one whose model the job keeps (`modelId`); no other trial of the job is. */
  async chooseModel(tenantId: string, jobId: string, index: number, modelId: string): Promise<void> {
    await withTenant(this.db, tenantId, async (tx) => {
      await tx.trial.updateMany({
        where: { jobId, modelId: { not: null }, NOT: { index } },
        data: { modelId: null },
      });
      await tx.trial.updateMany({ where: { jobId, index }, data: { modelId } });
    });
  }
}
