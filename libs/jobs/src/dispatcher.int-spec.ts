import { UnrecoverableError, Worker } from 'bullmq';
import { JOBS, QUEUES } from '@modelsmith/contracts';
import { JobDispatcher } from './dispatcher';
import { JobRouter } from './routing';
import { TEST_REDIS, useJobsTestbed } from '../../../test/support/jobs-testbed';

jest.setTimeout(60_000);

describe('JobDispatcher and JobRouter against Postgres and Redis', () => {
  const bed = useJobsTestbed({ queues: ['cpu', 'gpu'] });

  it('enqueues a row that never reached the queue exactly once, with the row id as BullMQ job id', async () => {
    const t = await bed.tenant();
    // Accepted while the queue was unreachable: the row exists, the enqueue never happened.
    const job = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu', priority: 10 });
    const dispatcher = new JobDispatcher({ cpu: bed.cpu, gpu: bed.gpu }, bed.store, bed.system);

    // Within the grace period the reconciler leaves it alone (the API may still be enqueueing it).
    expect(await dispatcher.reconcile(60_000)).toBe(0);
    expect(await bed.cpu.getJob(job.id)).toBeUndefined();

    // Two reconcilers racing (two API replicas) still produce one BullMQ job.
    const counts = await Promise.all([dispatcher.reconcile(0), dispatcher.reconcile(0)]);
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    const queued = await bed.cpu.getJob(job.id);
    expect(queued?.id).toBe(job.id);
    expect(queued?.name).toBe('system.noop@v1');
    expect(queued?.data).toEqual({ tenantId: t.id, jobId: job.id });
    expect(queued?.opts.priority).toBe(91);
    expect(await bed.cpu.getJobCountByTypes('waiting', 'prioritized', 'delayed', 'active')).toBe(1);
    expect((await bed.store.get(t.id, job.id))?.enqueuedAt).toBeInstanceOf(Date);

    // Once marked enqueued it is not picked up again.
    expect(await dispatcher.reconcile(0)).toBe(0);
    expect(await bed.cpu.getJobCountByTypes('waiting', 'prioritized', 'delayed', 'active')).toBe(1);
    expect(await bed.gpu.getJobCountByTypes('waiting', 'prioritized', 'delayed', 'active')).toBe(0);
  });

  it('skips rows that are no longer QUEUED', async () => {
    const t = await bed.tenant();
    const job = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
    await bed.store.requestCancel(t.id, job.id);
    const dispatcher = new JobDispatcher({ cpu: bed.cpu, gpu: bed.gpu }, bed.store, bed.system);
    await dispatcher.reconcile(0);
    expect(await bed.cpu.getJob(job.id)).toBeUndefined();
  });

  /** Makes a RUNNING row look abandoned: its heartbeat and last update long past the staleness window. */
  const abandon = (id: string) =>
    bed.system
      .$executeRaw`UPDATE jobs SET status = 'RUNNING', heartbeat_at = now() - interval '1 hour', updated_at = now() - interval '1 hour' WHERE id = ${id}`;

  it('records FAILED a row whose BullMQ job failed for good behind its back, with its dataset version', async () => {
    const t = await bed.tenant();
    const v = await bed.datasetVersion(t.id, { status: 'INGESTING' });
    const job = await bed.store.create(t.id, {
      kind: 'INGEST_DATASET',
      queue: 'cpu',
      datasetVersionId: v.id,
    });
    const live = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
    const dispatcher = new JobDispatcher({ cpu: bed.cpu, gpu: bed.gpu }, bed.store, bed.system);
    await dispatcher.enqueue(job);
    await dispatcher.enqueue(live);
    // A worker that gives up on the ingestion delivery without recording anything on the row (as
    // BullMQ does for a job that stalled too often), and leaves the other delivery waiting.
    const worker = new Worker(
      QUEUES.cpu,
      async (j) => {
        if (j.id === job.id) throw new UnrecoverableError('job stalled more than allowable limit');
        await new Promise(() => undefined);
      },
      { connection: TEST_REDIS, prefix: bed.prefix, autorun: false, concurrency: 2 },
    );
    void worker.run();
    try {
      await waitUntil(async () => (await bed.cpu.getJobState(job.id)) === 'failed');
    } finally {
      await worker.close(true);
    }
    await abandon(job.id);
    // A RUNNING row whose delivery is still on the queue is left alone.
    await abandon(live.id);

    expect(await dispatcher.reconcileAbandoned()).toEqual({ failed: 1, requeued: 0 });
    expect(await bed.store.get(t.id, job.id)).toMatchObject({
      status: 'FAILED',
      failureCode: 'RETRIES_EXHAUSTED',
      failureReason: 'job stalled more than allowable limit',
    });
    expect(await bed.system.datasetVersion.findUniqueOrThrow({ where: { id: v.id } })).toMatchObject({
      status: 'FAILED',
      failureCode: 'RETRIES_EXHAUSTED',
      failureReason: 'job stalled more than allowable limit',
    });
    expect((await bed.store.get(t.id, live.id))?.status).toBe('RUNNING');
    // Idempotent.
    expect(await dispatcher.reconcileAbandoned()).toEqual({ failed: 0, requeued: 0 });
  });

  it('enqueues again a RUNNING row whose BullMQ job vanished (Redis lost it)', async () => {
    const t = await bed.tenant();
    const job = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
    const dispatcher = new JobDispatcher({ cpu: bed.cpu, gpu: bed.gpu }, bed.store, bed.system);
    await dispatcher.enqueue(job);
    await (await bed.cpu.getJob(job.id))?.remove();
    await abandon(job.id);
    expect(await dispatcher.reconcileAbandoned()).toEqual({ failed: 0, requeued: 1 });
    expect((await bed.cpu.getJob(job.id))?.data).toEqual({ tenantId: t.id, jobId: job.id });
    expect((await bed.store.get(t.id, job.id))?.status).toBe('RUNNING');
  });

  it('routes auto to the bed.gpu queue only while a GPU worker is connected', async () => {
    const router = new JobRouter({ cpu: bed.cpu, gpu: bed.gpu }, 0);
    expect(await router.route(JOBS.noop, 'auto')).toBe('cpu');
    expect(await router.route(JOBS.noop, 'gpu')).toBe('gpu');
    expect(await router.route(JOBS.ingestDataset, 'auto')).toBe('cpu');
    await expect(router.route(JOBS.ingestDataset, 'gpu')).rejects.toMatchObject({ code: 'JOB_UNROUTABLE' });

    const worker = new Worker(QUEUES.gpu, async () => undefined, {
      connection: TEST_REDIS,
      prefix: bed.prefix,
      autorun: false,
    });
    void worker.run();
    try {
      await waitUntil(async () => (await bed.gpu.getWorkersCount()) > 0);
      expect(await router.route(JOBS.noop, 'auto')).toBe('gpu');
      expect(await router.route(JOBS.noop, 'cpu')).toBe('cpu');
      expect(await router.route(JOBS.ingestDataset, 'auto')).toBe('cpu');
    } finally {
      await worker.close();
    }
    await waitUntil(async () => (await bed.gpu.getWorkersCount()) === 0);
    expect(await router.route(JOBS.noop, 'auto')).toBe('cpu');
  });
});

async function waitUntil(fn: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 100));
  }
}
