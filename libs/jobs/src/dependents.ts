import type { DatasetVersionStatus, Job, Prisma, PrismaClient } from '@modelsmith/db';

type Tx = Prisma.TransactionClient;

/** How a job ended when it did not succeed, as recorded on its row. */
export interface JobFailure {
  status: 'FAILED' | 'CANCELLED';
  failureCode?: string | null;
  failureReason?: string | null;
}

/** Code and reason a dependent row records: the job's own, or JOB_CANCELLED for a cancellation. */
export function dependentFailure(f: JobFailure): { code: string; reason: string } {
  if (f.status === 'CANCELLED')
    return { code: 'JOB_CANCELLED', reason: f.failureReason ?? 'the job was cancelled' };
  return { code: f.failureCode ?? 'JOB_FAILED', reason: f.failureReason ?? 'the job failed' };
}

/** Dataset version states that an ingestion job is still working towards READY. */
export const BUILDING_VERSION_STATUSES: readonly DatasetVersionStatus[] = [
  'UPLOADING',
  'QUEUED',
  'INGESTING',
];

/**
 * Moves what a FAILED or CANCELLED job was building to the same end, inside the transaction that
 * records the job's final state (the caller holds the job row lock), so the two can never disagree:
 *
 * - INGEST_DATASET: its dataset version, while still UPLOADING/QUEUED/INGESTING, becomes FAILED or
 *   CANCELLED with the job's failure code and reason (JOB_CANCELLED for a cancellation). A version
 *   the handler already finished (READY) is left alone.
 * - TRAIN: nothing is in a building state. The Model row exists only once a phase produced an
 *   evaluated, exported model (READY); it stays usable.
 * - BATCH_PREDICT: the job row itself is the resource (its output is served only once SUCCEEDED).
 * - NOOP: builds nothing.
 *
 * Returns how many dependent rows changed. Idempotent.
 */
export async function settleDependents(
  tx: Tx,
  job: Pick<Job, 'kind' | 'datasetVersionId'>,
  f: JobFailure,
): Promise<number> {
  switch (job.kind) {
    case 'INGEST_DATASET': {
      if (!job.datasetVersionId) return 0;
      const { code, reason } = dependentFailure(f);
      const r = await tx.datasetVersion.updateMany({
        where: { id: job.datasetVersionId, status: { in: [...BUILDING_VERSION_STATUSES] } },
        data: {
          status: f.status,
          stage: f.status === 'FAILED' ? 'failed' : 'cancelled',
          failureCode: code,
          failureReason: reason,
        },
      });
      return r.count;
    }
    case 'TRAIN':
    case 'BATCH_PREDICT':
    case 'NOOP':
      return 0;
  }
}

/**
 * Repairs dataset versions left in a building state although their ingestion job is already FAILED or
 * CANCELLED (rows written before `settleDependents` existed, or by a path that bypassed it): each gets
 * its latest ingestion job's outcome, code and reason. Only versions whose every ingestion job is
 * finished that way are touched, and only within the job's own tenant. Cross-tenant: needs the
 * system client. Returns the repaired version ids; running it again changes nothing.
 */
export async function repairStuckDatasetVersions(systemDb: PrismaClient, limit = 500): Promise<string[]> {
  const rows = await systemDb.$queryRaw<{ id: string }[]>`
    UPDATE dataset_versions v
       SET status = (CASE WHEN j.status = 'CANCELLED' THEN 'CANCELLED' ELSE 'FAILED' END)::dataset_version_status,
           stage = CASE WHEN j.status = 'CANCELLED' THEN 'cancelled' ELSE 'failed' END,
           failure_code = CASE WHEN j.status = 'CANCELLED' THEN 'JOB_CANCELLED' ELSE COALESCE(j.failure_code, 'JOB_FAILED') END,
           failure_reason = COALESCE(j.failure_reason, CASE WHEN j.status = 'CANCELLED' THEN 'the job was cancelled' ELSE 'the job failed' END),
           updated_at = now()
      FROM jobs j
     WHERE v.id IN (
             SELECT v2.id
               FROM dataset_versions v2
               JOIN jobs j2 ON j2.dataset_version_id = v2.id AND j2.tenant_id = v2.tenant_id AND j2.kind = 'INGEST_DATASET'
              WHERE v2.status IN ('UPLOADING', 'QUEUED', 'INGESTING') AND j2.status IN ('FAILED', 'CANCELLED')
              LIMIT ${limit})
       AND j.dataset_version_id = v.id
       AND j.tenant_id = v.tenant_id
       AND j.kind = 'INGEST_DATASET'
       AND j.status IN ('FAILED', 'CANCELLED')
       AND v.status IN ('UPLOADING', 'QUEUED', 'INGESTING')
       AND NOT EXISTS (
             SELECT 1 FROM jobs k
              WHERE k.dataset_version_id = v.id AND k.kind = 'INGEST_DATASET' AND k.id <> j.id
                AND (k.status NOT IN ('FAILED', 'CANCELLED') OR (k.created_at, k.id) > (j.created_at, j.id)))
    RETURNING v.id`;
  return rows.map((r) => r.id);
}
