import { Prisma, type PrismaClient } from '@modelsmith/db';

type Tx = Prisma.TransactionClient;

/** Advisory-lock keys (two int4 halves): class 0x4d53 ("MS"); 1 = job admission, 2 = per-tenant job creation. */
const LOCK_CLASS = 0x4d53;
const ADMISSION = 1;

/**
 * Serializes admissions (starting a job under the concurrency limits) across all workers. The lock is
 * transaction-scoped: it is released at commit/rollback, or when a crashed worker's connection drops,
 * so it cannot be leaked.
 */
export async function lockAdmission(tx: Tx): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(${LOCK_CLASS}::int, ${ADMISSION}::int)::text AS locked`;
}

/** Serializes job creation within one tenant, so quota checks cannot race each other. */
export async function lockTenantAdmission(tx: Tx, tenantId: string): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`modelsmith:tenant-jobs:${tenantId}`}, 0))::text AS locked`;
}

/** RUNNING jobs whose heartbeat is fresh: the slots in use. Scoped to a tenant, or global with a system client. */
export async function countRunning(
  db: Tx | PrismaClient,
  where: { tenantId?: string; excludeJobId: string; freshAfter: Date },
): Promise<number> {
  return db.job.count({
    where: {
      status: 'RUNNING',
      heartbeatAt: { gt: where.freshAfter },
      id: { not: where.excludeJobId },
      ...(where.tenantId ? { tenantId: where.tenantId } : {}),
    },
  });
}
