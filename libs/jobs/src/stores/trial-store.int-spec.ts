import { TrialStore } from './trial-store';
import { useJobsTestbed } from '../../../../test/support/jobs-testbed';

jest.setTimeout(60_000);

describe('TrialStore against Postgres (row-level security)', () => {
  const bed = useJobsTestbed();
  let trials: TrialStore;

  beforeAll(() => {
    trials = new TrialStore(bed.app);
  });

  const job = async (tenantId: string) =>
    bed.system.job.create({ data: { tenantId, kind: 'TRAIN', status: 'RUNNING', mode: 'auto' } });

  it('a dispatched trial: PENDING until a worker claims it (recording the worker); a finished one is never claimed', async () => {
    const t = await bed.tenant();
    const j = await job(t.id);
    const pending = await trials.start(t.id, j.id, 0, { config: 0, rung: 0 }, 'PENDING');
    expect(pending).toMatchObject({ status: 'PENDING', startedAt: null, workerId: null });
    const claimed = await trials.claim(t.id, j.id, 0, 'host-a:11');
    expect(claimed).toMatchObject({ status: 'RUNNING', workerId: 'host-a:11' });
    expect(claimed?.startedAt).toBeInstanceOf(Date);
    // A killed worker's trial is claimed again by the next one (same start time, new worker).
    const again = await trials.claim(t.id, j.id, 0, 'host-b:22');
    expect(again).toMatchObject({ status: 'RUNNING', workerId: 'host-b:22' });
    expect(again?.startedAt?.getTime()).toBe(claimed?.startedAt?.getTime());
    expect((await trials.get(t.id, j.id, 0))?.workerId).toBe('host-b:22');
    // Another tenant sees no such trial and cannot claim it.
    const other = await bed.tenant();
    expect(await trials.claim(other.id, j.id, 0, 'host-c:33')).toBeNull();
    expect(await trials.get(other.id, j.id, 0)).toBeNull();
    await trials.finish(t.id, j.id, 0, { status: 'SUCCEEDED', metrics: {}, costSeconds: 1 });
    expect(await trials.claim(t.id, j.id, 0, 'host-c:33')).toBeNull();
    expect(await trials.claim(t.id, j.id, 7, 'host-c:33')).toBeNull();
    // A PENDING trial can end without ever running (the search was cancelled).
    await trials.start(t.id, j.id, 1, { config: 1, rung: 0 }, 'PENDING');
    expect(
      await trials.finish(t.id, j.id, 1, {
        status: 'PRUNED',
        metrics: { error: 'cancelled' },
        costSeconds: 0,
      }),
    ).toBe(true);
  });

  it('a claim racing the end of the trial (a re-delivery as the old worker finishes) does not reopen it', async () => {
    const t = await bed.tenant();
    const j = await job(t.id);
    await trials.start(t.id, j.id, 0, { config: 0, rung: 0 }, 'PENDING');
    await trials.claim(t.id, j.id, 0, 'host-a:11');
    let claim: Promise<unknown> | undefined;
    // The old worker's finish holds the row until its transaction commits; meanwhile the new worker's
    // claim has read the row (still RUNNING) and waits on that lock with its UPDATE.
    await bed.system.$transaction(async (tx) => {
      await tx.trial.updateMany({
        where: { jobId: j.id, index: 0, status: { in: ['RUNNING', 'PENDING'] } },
        data: { status: 'SUCCEEDED', metrics: { validationAccuracy: 0.5 }, finishedAt: new Date() },
      });
      claim = trials.claim(t.id, j.id, 0, 'host-b:22');
      for (let i = 0; i < 200; i++) {
        const waiting = await bed.system.$queryRaw<{ n: bigint }[]>`
          SELECT count(*) AS n FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND query ILIKE 'UPDATE%trial%'`;
        if (Number(waiting[0].n) > 0) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the claim never waited on the finished row');
    });
    expect(await claim).toBeNull();
    const row = await trials.get(t.id, j.id, 0);
    expect(row).toMatchObject({ status: 'SUCCEEDED', workerId: 'host-a:11' });
    expect(row?.metrics).toEqual({ validationAccuracy: 0.5 });
  });

  it("a worker that lost the trial to another one's claim records neither its progress nor its end", async () => {
    const t = await bed.tenant();
    const j = await job(t.id);
    await trials.start(t.id, j.id, 0, { config: 0, rung: 0 }, 'PENDING');
    await trials.claim(t.id, j.id, 0, 'host-a:11');
    await trials.progress(t.id, j.id, 0, {
      curves: [{ epoch: 0, loss: 2 }],
      costSeconds: 1,
      workerId: 'host-a:11',
    });
    // Re-delivered (host-a's queue lock expired while it was starved) and claimed by host-b.
    await trials.claim(t.id, j.id, 0, 'host-b:22');
    await trials.progress(t.id, j.id, 0, {
      curves: [{ epoch: 1, loss: 9 }],
      costSeconds: 5,
      workerId: 'host-a:11',
    });
    const lost = { status: 'SUCCEEDED' as const, metrics: { validationAccuracy: 0.1 }, costSeconds: 3 };
    expect(await trials.finish(t.id, j.id, 0, { ...lost, workerId: 'host-a:11' })).toBe(false);
    let row = await trials.get(t.id, j.id, 0);
    expect(row).toMatchObject({ status: 'RUNNING', workerId: 'host-b:22', costSeconds: 1 });
    expect(row?.curves).toEqual([{ epoch: 0, loss: 2 }]);
    // The holder's end counts.
    const won = { status: 'SUCCEEDED' as const, metrics: { validationAccuracy: 0.9 }, costSeconds: 2 };
    expect(await trials.finish(t.id, j.id, 0, { ...won, workerId: 'host-b:22' })).toBe(true);
    row = await trials.get(t.id, j.id, 0);
    expect(row).toMatchObject({ status: 'SUCCEEDED', workerId: 'host-b:22', costSeconds: 3 });
    expect(row?.metrics).toEqual({ validationAccuracy: 0.9 });
  });

  it('starts a trial once, records progress and its end once, and never reopens a finished trial', async () => {
    const t = await bed.tenant();
    const j = await job(t.id);
    const started = await trials.start(t.id, j.id, 0, { config: 0, rung: 0, backbone: 'small_cnn_s' });
    expect(started).toMatchObject({ status: 'RUNNING', index: 0, params: { backbone: 'small_cnn_s' } });
    expect(started.startedAt).toBeInstanceOf(Date);
    // A resumed start (after a crash) returns the same row, unchanged.
    const again = await trials.start(t.id, j.id, 0, { config: 99 });
    expect(again.id).toBe(started.id);
    expect(again.params.config).toBe(0);

    await trials.progress(t.id, j.id, 0, { curves: [{ epoch: 0, loss: 1.2 }], costSeconds: 2.5 });
    await trials.progress(t.id, j.id, 0, {
      curves: [
        { epoch: 0, loss: 1.2 },
        { epoch: 1, loss: 0.8 },
      ],
      costSeconds: 1.5,
    });
    expect(
      await trials.finish(t.id, j.id, 0, {
        status: 'SUCCEEDED',
        metrics: { validationAccuracy: 0.9 },
        costSeconds: 1,
        artifactPrefix: 'tenants/x/jobs/y/trials/0/',
      }),
    ).toBe(true);
    // Finished: neither progress nor a second finish changes it.
    await trials.progress(t.id, j.id, 0, { curves: [], costSeconds: 100 });
    expect(
      await trials.finish(t.id, j.id, 0, { status: 'FAILED', metrics: { error: 'x' }, costSeconds: 100 }),
    ).toBe(false);
    const [row] = await trials.all(t.id, j.id);
    expect(row).toMatchObject({ status: 'SUCCEEDED', metrics: { validationAccuracy: 0.9 } });
    expect(row.costSeconds).toBeCloseTo(5, 6);
    expect(row.curves).toHaveLength(2);
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(row.artifactPrefix).toBe('tenants/x/jobs/y/trials/0/');

    // Retention: the files are gone, the row keeps its result; another tenant cannot release it.
    const other = await bed.tenant();
    await trials.releaseArtifacts(other.id, j.id, 0);
    expect((await trials.all(t.id, j.id))[0].artifactPrefix).toBe('tenants/x/jobs/y/trials/0/');
    await trials.releaseArtifacts(t.id, j.id, 0);
    const [released] = await trials.all(t.id, j.id);
    expect(released).toMatchObject({
      status: 'SUCCEEDED',
      artifactPrefix: null,
      metrics: { validationAccuracy: 0.9 },
    });
  });

  it('lists in index order with a cursor, scoped to the tenant; marks exactly one trial as the kept model', async () => {
    const t = await bed.tenant();
    const other = await bed.tenant();
    const j = await job(t.id);
    for (const i of [2, 0, 1]) await trials.start(t.id, j.id, i, { config: i });
    const first = await trials.list(t.id, j.id, 2);
    expect(first.map((r) => r.index)).toEqual([0, 1]);
    const rest = await trials.list(t.id, j.id, 2, first[1].id);
    expect(rest.map((r) => r.index)).toEqual([2]);
    expect(await trials.list(other.id, j.id, 10)).toEqual([]);
    expect(await trials.all(other.id, j.id)).toEqual([]);
    // Another tenant cannot start or finish trials of this job.
    await expect(trials.start(other.id, j.id, 5, {})).rejects.toThrow();
    expect(await trials.finish(other.id, j.id, 0, { status: 'FAILED', metrics: {}, costSeconds: 0 })).toBe(
      false,
    );

    await trials.chooseModel(t.id, j.id, 1, j.id);
    await trials.chooseModel(t.id, j.id, 2, j.id);
    const rows = await trials.all(t.id, j.id);
    expect(rows.map((r) => r.modelId)).toEqual([null, null, j.id]);
  });
});
