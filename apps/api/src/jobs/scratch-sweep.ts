import type { PrismaClient } from '@modelsmith/db';
import { keys, type ObjectStore } from '@modelsmith/storage';

export interface ScratchSweepOptions {
  /** Finished jobs keep their scratch objects this long (ms after finishedAt). */
  retentionMs: number;
  now?: Date;
  /** Most jobs handled per call (the rest wait for the next one). */
  limit?: number;
  log?: (message: string) => void;
}

export interface ScratchSweepResult {
  /** Jobs whose scratch was cleared (or found to hold none). */
  jobs: number;
  /** Objects deleted. */
  objects: number;
  /** Jobs left for the next sweep because a delete failed. */
  failed: number;
}

/**
 * Deletes what finished jobs left behind that nothing reads any more, once they have been finished
 * for `retentionMs`: a training job's checkpoints (only a running job resumes from them) and a batch
 * prediction job's uploaded input archive. On success the worker deletes both at once; this sweep
 * covers failed and cancelled jobs (a job cancelled while queued never reaches a worker) and clean-ups
 * that failed. Logs, outputs and models are never touched. Each job is marked `scratchClearedAt`,
 * so it is visited once; a job whose delete fails stays unmarked and is tried again next time.
 * Needs a client that sees every tenant (the system client).
 */
export async function sweepJobScratch(
  db: PrismaClient,
  store: ObjectStore,
  options: ScratchSweepOptions,
): Promise<ScratchSweepResult> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.retentionMs);
  const jobs = await db.job.findMany({
    where: {
      kind: { in: ['TRAIN', 'BATCH_PREDICT'] },
      status: { in: ['SUCCEEDED', 'FAILED', 'CANCELLED'] },
      scratchClearedAt: null,
      finishedAt: { lt: cutoff },
    },
    select: { id: true, tenantId: true, kind: true, options: true },
    orderBy: { finishedAt: 'asc' },
    take: options.limit ?? 500,
  });
  const result: ScratchSweepResult = { jobs: 0, objects: 0, failed: 0 };
  for (const job of jobs) {
    try {
      if (job.kind === 'TRAIN') {
        result.objects += await store.deletePrefix(keys.jobCheckpointsPrefix(job.tenantId, job.id));
      } else {
        const inputKey = (job.options as { inputKey?: unknown } | null)?.inputKey;
        // Only ever a key of the job's own tenant's batch inputs, whatever the row says.
        const ownInputs = keys.batchInputsPrefix(job.tenantId);
        if (typeof inputKey === 'string' && inputKey.startsWith(ownInputs) && !inputKey.includes('..')) {
          if (await store.stat(inputKey)) {
            await store.delete(inputKey);
            result.objects++;
          }
        } else if (inputKey !== undefined) {
          options.log?.(
            `job ${job.id}: input key ${JSON.stringify(inputKey)} is not under ${ownInputs}; left alone`,
          );
        }
      }
      // Only if still finished (a job retried meanwhile is not marked).
      await db.job.updateMany({
        where: { id: job.id, status: { in: ['SUCCEEDED', 'FAILED', 'CANCELLED'] }, scratchClearedAt: null },
        data: { scratchClearedAt: now },
      });
      result.jobs++;
    } catch (e) {
      result.failed++;
      options.log?.(
        `job ${job.id}: scratch not cleared (${e instanceof Error ? e.message : String(e)}); tried again next sweep`,
      );
    }
  }
  return result;
}
