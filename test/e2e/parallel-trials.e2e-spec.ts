import { call, startPlatform, waitFor, type Platform } from '../support/platform';
import { jobSucceeded } from '../support/jobs';
import { mnistZip } from '../support/archives';
import { readyDataset } from '../support/datasets';
import { candidateFromMetrics, chooseModel } from '../../apps/worker/src/training/search/model-choice';

jest.setTimeout(900_000);

/**
 * A search's trials as BullMQ child jobs, trained by two worker processes at once: each worker
 * records itself (hostname:pid) on the trials it trains; a worker SIGKILLed in the middle of a trial
 * loses it to the other one (BullMQ's stalled-job check) and the search still ends with every trial
 * recorded once and the job's model the best trial on validation.
 */
describe('parallel search trials across worker processes (BullMQ child jobs)', () => {
  let p: Platform;
  let key: string;

  beforeAll(async () => {
    // One thread per trial: each worker process is one core's worth of trials.
    p = await startPlatform({ TRAIN_THREADS: '1', SEARCH_TRIALS: 'queue' });
    await p.startWorker();
    key = (await call(p.apiUrl, 'POST', '/v1/admin/tenants', { token: p.adminToken, body: { name: 'Par' } }))
      .body.apiKey.key as string;
  });

  afterAll(async () => {
    await p?.stop();
  });

  const trialRows = (jobId: string) =>
    p.system.trial.findMany({ where: { jobId }, orderBy: { index: 'asc' } });

  it('trains trials in both workers, survives one being killed mid-trial, records each trial once', async () => {
    const versionId = await readyDataset(p, key, await mnistZip(20), { imageSize: '28', channels: '1' });
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        budget: { maxMinutes: 12, maxTrials: 6 },
        // One rung of one epoch: every trial is a new configuration, all of them can run at once.
        options: { backbone: 'nas_cnn', epochs: 1, seed: 11 },
      },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const pids = new Map(p.workers.map((w) => [w.child.pid!, w]));
    // A trial's claimant is `hostname:pid/<n>` (its process, and which of the process's trial deliveries).
    const processOf = (workerId: string | null) => workerId?.split('/')[0] ?? null;
    const pidOf = (workerId: string | null) => Number(processOf(workerId)?.split(':').pop());

    // Two trials training at once, one in each worker.
    await waitFor(
      'two trials training side by side in two workers',
      async () => {
        const running = (await trialRows(id)).filter((t) => t.status === 'RUNNING' && t.workerId);
        return new Set(running.map((t) => processOf(t.workerId))).size >= 2 ? running : undefined;
      },
      300_000,
      100,
    );
    // Kill the worker that trains trials but does not run the search (the parent job) itself, in
    // the middle of its second trial (its first one finished and stays its own).
    const parent = await p.system.job.findUniqueOrThrow({ where: { id } });
    const victimTrial = await waitFor(
      'a second trial in the worker without the search',
      async () => {
        const rows = await trialRows(id);
        const other = (w: string | null) => w !== null && processOf(w) !== parent.workerId;
        if (!rows.some((t) => t.status === 'SUCCEEDED' && other(t.workerId))) return undefined;
        // Early in the trial (no epoch recorded yet), so it is still training when the kill lands.
        return rows.find((t) => t.status === 'RUNNING' && other(t.workerId) && t.curves === null);
      },
      300_000,
      50,
    );
    const victim = pids.get(pidOf(victimTrial.workerId));
    expect(victim).toBeDefined();
    victim!.child.kill('SIGKILL');
    await victim!.exited;
    const finishedAtKill = (await trialRows(id)).filter((t) => t.finishedAt !== null);

    const job = await jobSucceeded(p, key, id, { what: 'search to finish', timeoutMs: 600_000 });

    const trials = await trialRows(id);
    expect(trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const t of trials) {
      expect(t.status).toBe('SUCCEEDED');
      expect(t.workerId).toMatch(/^.+:\d+\/\d+$/);
    }
    // Trials ran in both processes.
    const workersUsed = new Set(trials.map((t) => pidOf(t.workerId)));
    expect(workersUsed.size).toBe(2);
    // The killed worker's trial was taken over by the survivor and finished there.
    const retaken = trials.find((t) => t.index === victimTrial.index)!;
    expect(pidOf(retaken.workerId)).not.toBe(victim!.child.pid);
    // Finished before the kill = never run again.
    for (const f of finishedAtKill) {
      const after = trials.find((t) => t.index === f.index)!;
      expect(after.finishedAt?.getTime()).toBe(f.finishedAt?.getTime());
      expect(after.workerId).toBe(f.workerId);
    }
    // One "succeeded" event per trial: each trial recorded its end once.
    const events = (await call(p.apiUrl, 'GET', `/v1/jobs/${id}/events`, { token: key })).body as {
      message: string | null;
    }[];
    for (const t of trials)
      expect(
        events.filter((e) => new RegExp(`^trial ${t.index}: validation accuracy`).test(e.message ?? '')),
      ).toHaveLength(1);

    // The job's model: in trial order, a later trial replaces the incumbent only when clearly better
    // on the same validation images (model-choice.ts), tested once.
    const val = (t: (typeof trials)[number]) =>
      (t.metrics as { validationAccuracy: number }).validationAccuracy;
    const chosen = chooseModel(
      trials.map((t) =>
        candidateFromMetrics(
          t.index,
          Number((t.params as { rung?: number } | null)?.rung ?? 0),
          val(t),
          t.metrics as Record<string, unknown> | null,
        ),
      ),
    )!;
    const best = trials.find((t) => t.index === chosen.index)!;
    expect(job.result.bestTrial).toBe(best.index);
    expect(trials.filter((t) => t.modelId !== null).map((t) => t.index)).toEqual([best.index]);
    const model = await call(p.apiUrl, 'GET', `/v1/models/${job.result.modelId}`, { token: key });
    expect(model.status).toBe(200);
    expect(model.body.report.split).toBe('test');
    console.log(
      `parallel trials e2e: ${trials.length} trials over ${workersUsed.size} workers (killed ${victim!.child.pid} in trial ${victimTrial.index}), best #${best.index} val ${val(best)}, test ${job.result.accuracy}`,
    );
    // Chance is 0.10 (ten digits); one-epoch nas_cnn trials on 120 digits.
    expect(job.result.accuracy).toBeGreaterThan(0.15);
  });
});
