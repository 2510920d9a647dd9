import { call, createTenant, startPlatform, type Platform } from '../support/platform';
import { jobSucceeded } from '../support/jobs';
import { readyDataset } from '../support/datasets';
import { mnistZip, zipEntryNames } from '../support/archives';

jest.setTimeout(600_000);

describe('training jobs end to end (real API, worker, Postgres, Redis, S3)', () => {
  let p: Platform;
  let key: string;

  beforeAll(async () => {
    p = await startPlatform();
    key = (await createTenant(p, 'Trainer')).key;
  });

  afterAll(async () => {
    await p?.stop();
  });

  it('rejects jobs the dataset cannot support with clear 422 problems', async () => {
    const versionId = await readyDataset(p, key, await mnistZip(4, 3), { imageSize: '28', channels: '1' });
    const tooFew = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { task: 'image-classification', datasetVersionId: versionId },
    });
    expect(tooFew.status).toBe(422);
    expect(tooFew.body.reason).toBe('TOO_FEW_IMAGES');
    expect(tooFew.body.detail).toMatch(/`0` has \d/);
    const unknown = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { task: 'image-classification', datasetVersionId: 'nope' },
    });
    expect(unknown.status).toBe(404);
    const budget = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { task: 'image-classification', datasetVersionId: versionId, budget: { maxMinutes: 0 } },
    });
    expect(budget.status).toBe(400);
    expect(budget.body.errors[0].field).toBe('budget.maxMinutes');
  });

  it('trains an MNIST digits classifier to a held-out accuracy, with progress, history and artifacts', async () => {
    const versionId = await readyDataset(p, key, await mnistZip(40), { imageSize: '28', channels: '1' });
    const badBackbone = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        options: { backbone: 'resnet9000' },
      },
    });
    expect(badBackbone.status).toBe(422);
    expect(badBackbone.body.reason).toBe('UNKNOWN_BACKBONE');

    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        mode: 'fast',
        budget: { maxMinutes: 10 },
        options: { epochs: 8 },
      },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const job = await jobSucceeded(p, key, id, { what: 'training to finish', timeoutMs: 480_000 });
    const accuracy = job.result.accuracy as number;
    console.log(
      `mnist e2e: test accuracy ${accuracy} on ${job.result.testSamples} held-out images, ${job.result.epochs} epochs`,
    );
    expect(job.result.testSamples).toBeGreaterThanOrEqual(30);
    expect(accuracy).toBeGreaterThan(0.7);

    const events = await call(p.apiUrl, 'GET', `/v1/jobs/${id}/events`, { token: key });
    const stages = new Set(events.body.map((e: { stage: string }) => e.stage));
    for (const s of ['preparing', 'training', 'evaluating', 'exporting']) expect(stages).toContain(s);
    expect(events.body.filter((e: { type: string }) => e.type === 'metrics').length).toBe(job.result.epochs);

    const models = await p.system.model.findMany({ where: { jobId: id } });
    expect(models).toHaveLength(1);
    const prefix = models[0].artifactPrefix;
    const files: string[] = [];
    for await (const o of p.s3.store.list(prefix)) files.push(o.key.slice(prefix.length));
    expect(files).toEqual(
      expect.arrayContaining(['model.json', 'manifest.json', 'evaluation.json', 'training-curves.json']),
    );
    const curves = JSON.parse(
      (await p.s3.store.getBytes(`${prefix}training-curves.json`)).toString(),
    ) as unknown[];
    expect(curves).toHaveLength(job.result.epochs);

    // The model API: report, lineage and a one-file download.
    const model = await call(p.apiUrl, 'GET', `/v1/models/${models[0].id}`, { token: key });
    expect(model.status).toBe(200);
    expect(model.body.report.accuracy).toBeCloseTo(accuracy, 6);
    expect(model.body.lineage.datasetVersion.id).toBe(versionId);
    expect(model.body.trainingCurves).toHaveLength(job.result.epochs);
    const dl = await call(p.apiUrl, 'POST', `/v1/models/${models[0].id}/download`, { token: key });
    expect(dl.status).toBe(200);
    const zip = Buffer.from(await (await fetch(dl.body.url)).arrayBuffer());
    expect(zip.length).toBe(dl.body.sizeBytes);
    const names = await zipEntryNames(zip);
    expect(names).toEqual(
      expect.arrayContaining([
        'model.json',
        'manifest.json',
        'evaluation.json',
        'training-curves.json',
        'README.md',
      ]),
    );
    expect(names.some((n) => n.endsWith('.bin'))).toBe(true);
    const log = (await p.s3.store.getBytes(`tenants/${models[0].tenantId}/jobs/${id}/logs/events.jsonl`))
      .toString()
      .trim()
      .split('\n');
    expect(JSON.parse(log[0]).type).toBe('queued');
  });

  it('lists suspected mislabeled samples in the model report and cleans them into a new version with one call', async () => {
    const versionId = await readyDataset(p, key, await mnistZip(12), { imageSize: '28', channels: '1' });
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        mode: 'fast',
        budget: { maxMinutes: 10 },
        options: { epochs: 3, earlyStopping: false },
      },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    await jobSucceeded(p, key, id, { what: 'training to finish', timeoutMs: 480_000 });
    const [row] = await p.system.model.findMany({ where: { jobId: id } });
    const model = await call(p.apiUrl, 'GET', `/v1/models/${row.id}`, { token: key });
    const lq = model.body.report.labelQuality;
    const datasetId = model.body.lineage.datasetVersion.datasetId as string;
    const parent = (
      await call(p.apiUrl, 'GET', `/v1/datasets/${datasetId}/versions/${versionId}`, { token: key })
    ).body;
    // 3 epochs on 120 digits: the model is far from fitting every label, so it suspects some.
    expect(lq.method).toBe('aum');
    expect(lq.epochs).toBe(3);
    expect(lq.scored).toBe(parent.stats.splits.train);
    expect(lq.suspected).toBeGreaterThan(0);
    const first = lq.suspects[0];
    expect(first.sampleId).toMatch(/^[0-9a-f]{64}$/);
    expect(first.path).toMatch(/^digits\/\d\/\d+\.png$/);
    expect(first.givenLabel).toBe(first.path.split('/')[1]);
    expect(first.aum).toBeLessThan(lq.threshold);
    const versionReport = await call(
      p.apiUrl,
      'GET',
      `/v1/datasets/${datasetId}/versions/${versionId}/report`,
      { token: key },
    );
    expect(versionReport.body.labelQuality.modelId).toBe(row.id);
    expect(versionReport.body.labelQuality.suspects[0].sampleId).toBe(first.sampleId);
    const thumb = await p.s3.store.getBytes(`${row.artifactPrefix}${first.thumbnail}`);
    expect(thumb.subarray(1, 4).toString()).toBe('PNG');

    // Hostile or wrong requests change nothing.
    const before = await p.system.datasetVersion.count({
      where: { datasetId },
    });
    const bad = [
      [{ remove: ['../../etc'] }, 400],
      [{ remove: 'all' }, 400],
      [{ relabel: [{ sampleId: first.sampleId }] }, 400],
      [{ maxSuspects: 0 }, 400],
      [{ remove: ['a'.repeat(64)] }, 422],
      [{ relabel: [{ sampleId: first.sampleId, label: 'not-a-class' }] }, 422],
      // Scored by AUM alone ('aum'): no suspect has a held-out label to relabel it to.
      [{ relabelSuspected: true }, 422],
    ] as const;
    for (const [body, status] of bad) {
      const r = await call(p.apiUrl, 'POST', `/v1/models/${row.id}/clean`, { token: key, body });
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), status]);
      expect(r.body.code).toBe(status === 400 ? 'VALIDATION_FAILED' : 'UNPROCESSABLE');
      if ('relabelSuspected' in body)
        expect(r.body.detail).toMatch(/none of the suspects has a held-out label/);
    }
    expect((await call(p.apiUrl, 'POST', '/v1/models/nope/clean', { token: key, body: {} })).status).toBe(
      404,
    );
    expect(
      await p.system.datasetVersion.count({
        where: { datasetId },
      }),
    ).toBe(before);

    // Remove the suspects but fix the first one's label instead: a READY child version and a retrain.
    const fixTo = first.givenLabel === '0' ? '1' : '0';
    const cleaned = await call(p.apiUrl, 'POST', `/v1/models/${row.id}/clean`, {
      token: key,
      body: { removeSuspected: true, maxSuspects: 5, relabel: [{ sampleId: first.sampleId, label: fixTo }] },
    });
    expect(cleaned.status).toBe(201);
    // A suspect whose removal would leave its class under 5 training images is kept (and listed).
    expect(cleaned.body.removed + cleaned.body.kept.length).toBe(Math.min(lq.suspected, 5) - 1);
    expect(cleaned.body.relabeled).toBe(1);
    const v = cleaned.body.datasetVersion;
    expect(v.status).toBe('READY');
    expect(v.parentVersionId).toBe(versionId);
    expect(v.stats.samples).toBe(parent.stats.samples - cleaned.body.removed);
    expect(cleaned.body.job.kind).toBe('TRAIN');
    expect(cleaned.body.job.datasetVersionId).toBe(v.id);
    const cancel = await call(p.apiUrl, 'POST', `/v1/jobs/${cleaned.body.job.id}/cancel`, { token: key });
    expect(cancel.status).toBeLessThan(300);
    const got = await call(p.apiUrl, 'GET', `/v1/datasets/${v.datasetId}/versions/${v.id}`, { token: key });
    expect(got.body.status).toBe('READY');

    // Suspects that would take a class below the training minimum are kept: the model's label-quality
    // file rewritten so that every training `3` and one training `7` are suspects (most suspect first).
    const stored = await p.system.datasetVersion.findUniqueOrThrow({ where: { id: versionId } });
    const index = JSON.parse(
      (await p.s3.store.getBytes(`${stored.shardPrefix}index.json`)).toString('utf8'),
    ) as { labels: string[]; samples: { label: number; split: string; hash: string }[] };
    const trainOf = (label: string) =>
      index.samples.filter((x) => x.split === 'train' && index.labels[x.label] === label);
    const train = trainOf('3');
    expect(train.length).toBeGreaterThan(5);
    const lqKey = `${row.artifactPrefix}label-quality.json`;
    const lqFile = (await p.s3.store.getBytes(lqKey)).toString('utf8');
    const suspect = (x: { hash: string }, givenLabel: string) => ({
      sampleId: x.hash,
      givenLabel,
      believedLabel: '8',
      aum: -1,
    });
    const fake = [...train.map((x) => suspect(x, '3')), suspect(trainOf('7')[0], '7')];
    await p.s3.store.putBytes(
      lqKey,
      Buffer.from(JSON.stringify({ ...JSON.parse(lqFile), suspected: fake.length, suspects: fake })),
      'application/json',
    );
    const capped = await call(p.apiUrl, 'POST', `/v1/models/${row.id}/clean`, { token: key, body: {} });
    await p.s3.store.putBytes(lqKey, Buffer.from(lqFile), 'application/json');
    expect(capped.status).toBe(201);
    expect(capped.body.removed).toBe(train.length - 5 + 1);
    expect(capped.body.relabeled).toBe(0);
    expect(capped.body.kept).toEqual(
      train.slice(train.length - 5).map((x) => ({
        sampleId: x.hash,
        label: '3',
        reason: 'class "3" has 5 training images; removing it would leave 4, below the minimum of 5 to train',
      })),
    );
    const three = capped.body.datasetVersion.stats.classes.find((c: { name: string }) => c.name === '3');
    expect(three.splits.train).toBe(5);
    expect(capped.body.job.kind).toBe('TRAIN');
    expect(capped.body.job.datasetVersionId).toBe(capped.body.datasetVersion.id);
    expect(
      (await call(p.apiUrl, 'POST', `/v1/jobs/${capped.body.job.id}/cancel`, { token: key })).status,
    ).toBeLessThan(300);

    // The client's own removals are not capped: a cleaning that leaves a class too few training
    // images keeps the version, and the 422 of the retrain it could not start names it.
    const tooMany = train.slice(0, train.length - 4).map((x) => x.hash);
    const versions = await p.system.datasetVersion.count({ where: { datasetId } });
    const rejected = await call(p.apiUrl, 'POST', `/v1/models/${row.id}/clean`, {
      token: key,
      body: { remove: tooMany },
    });
    expect(rejected.status).toBe(422);
    expect(rejected.body.reason).toBe('TOO_FEW_IMAGES');
    expect(rejected.body.detail).toMatch(/`3` has 4.*is kept; it was not retrained/);
    const kept = await call(
      p.apiUrl,
      'GET',
      `/v1/datasets/${datasetId}/versions/${rejected.body.datasetVersionId as string}`,
      { token: key },
    );
    expect(kept.body.status).toBe('READY');
    expect(kept.body.stats.samples).toBe(parent.stats.samples - tooMany.length);
    expect(await p.system.datasetVersion.count({ where: { datasetId } })).toBe(versions + 1);
  });

  it('stops at the wall-clock budget and keeps the best model so far instead of failing', async () => {
    // A worker training on one thread: this job trains for its whole minute, and with a second
    // thread (TRAIN_THREADS=auto on 2 cores) it would take the core of the other test file running
    // beside it for that minute.
    const busy = p.workers[p.workers.length - 1];
    busy.child.kill('SIGTERM');
    await busy.exited;
    await p.startWorker({ TRAIN_THREADS: '1' });
    const versionId = await readyDataset(p, key, await mnistZip(10), { imageSize: '28', channels: '1' });
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        mode: 'best',
        budget: { maxMinutes: 1 },
        options: { epochs: 200, earlyStopping: false },
      },
    });
    expect(created.status).toBe(202);
    const job = await jobSucceeded(p, key, created.body.id as string, {
      what: 'budgeted job to finish',
      timeoutMs: 300_000,
    });
    expect(job.result.status).toBe('stopped-by-budget');
    expect(job.result.epochs).toBeLessThan(200);
    expect(await p.system.model.count({ where: { jobId: job.id } })).toBe(1);
  });
});
