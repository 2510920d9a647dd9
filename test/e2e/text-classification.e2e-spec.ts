import * as fs from 'node:fs';
import * as path from 'node:path';
import { deserializeTextClassifier } from '@modelsmith/ml';
import { call, startPlatform, type Platform } from '../support/platform';
import { jobSucceeded, jobTrials, trialsWhen } from '../support/jobs';
import { readyVersion } from '../support/datasets';
import { entriesOf, mnistPng } from '../support/archives';

jest.setTimeout(300_000);

/**
 * 120 real fortunes in English (Debian `fortunes`, BSD), Italian (`fortunes-it`, public domain) and
 * Spanish (`fortunes-es`, texts public domain), 40 each: see test/fixtures/text/README.md.
 */
const CSV = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'text', 'fortunes-languages-small.csv'));

/** Sentences written for this test (not in the dataset), one per language. */
const NEW_TEXTS: [string, string][] = [
  ['The weather is nice today and the children are playing in the garden with their friends.', 'en'],
  ['Oggi il tempo è bello e i bambini giocano nel giardino con i loro amici.', 'it'],
  ['Hoy hace buen tiempo y los niños juegan en el jardín con sus amigos.', 'es'],
];

interface TextTrial {
  id: string;
  index: number;
  status: string;
  params: Record<string, string | number>;
  metrics: { validationAccuracy: number; validationMacroF1: number; epochs: number } | null;
  curves: unknown[] | null;
  costSeconds: number;
  modelId: string | null;
  modelKept: boolean;
  finishedAt: string | null;
}

interface Prediction {
  label: string;
  score: number;
  top: { label: string; score: number }[];
}

async function textDataset(p: Platform, key: string): Promise<string> {
  const ds = await call(p.apiUrl, 'POST', '/v1/datasets', {
    token: key,
    body: { name: 'languages', task: 'text-classification' },
  });
  expect(ds.status).toBe(201);
  return readyVersion(p, key, ds.body.id as string, new Blob([CSV], { type: 'text/csv' }), 'languages.csv');
}

describe('text classification end to end (API, worker, serving, Postgres, Redis, S3)', () => {
  let p: Platform;
  let key: string;

  beforeAll(async () => {
    // The worker SIGKILLed mid-search loses its queue locks after 10 s (renewed every 5 s), not the
    // default 30 s: the resume waits ~10 s for them.
    p = await startPlatform({ WORKER_LOCK_DURATION_MS: '10000' });
    const a = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Texter' },
    });
    key = a.body.apiKey.key;
  });

  afterAll(async () => {
    await p?.stop();
  });

  it('trains on an uploaded text CSV, evaluates on its test split, serves {"instances": [...]} and batch predictions', async () => {
    const versionId = await textDataset(p, key);

    // The dataset's task decides which job trains on it.
    const wrongTask = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { task: 'image-classification', datasetVersionId: versionId },
    });
    expect(wrongTask.status).toBe(422);
    expect(wrongTask.body.reason).toBe('TASK_MISMATCH');

    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'text-classification',
        datasetVersionId: versionId,
        mode: 'fast',
        budget: { maxMinutes: 5 },
      },
    });
    expect(created.status).toBe(202);
    const jobId = created.body.id as string;
    const job = await jobSucceeded(p, key, jobId, { what: 'text training to finish', timeoutMs: 120_000 });
    console.log(
      `text e2e: ${String(job.result.candidate)}, test accuracy ${String(job.result.accuracy)} on ${String(job.result.testSamples)} held-out texts, ${String(job.result.trainSeconds)} s`,
    );
    // 12 held-out texts of 3 languages; runs here gave 1.0 (threshold with margin).
    expect(job.result.testSamples).toBeGreaterThanOrEqual(9);
    expect(job.result.accuracy).toBeGreaterThanOrEqual(0.75);

    const model = await call(p.apiUrl, 'GET', `/v1/models/${jobId}`, { token: key });
    expect(model.status).toBe(200);
    expect(model.body.task).toBe('TEXT_CLASSIFICATION');
    expect(model.body.report.accuracy).toBeCloseTo(job.result.accuracy as number, 6);
    expect(model.body.report.classNames).toEqual(['en', 'es', 'it']);
    expect(model.body.report.confusionMatrix).toHaveLength(3);

    // Online predictions with "instances".
    const dep = await call(p.apiUrl, 'POST', '/v1/deployments', {
      token: key,
      body: { modelId: jobId, name: 'lang' },
    });
    expect(dep.status).toBe(201);
    const predictPath = `/v1/deployments/${dep.body.id}/predict`;
    const ok = await call(p.servingUrl, 'POST', predictPath, {
      token: key,
      body: { instances: NEW_TEXTS.map(([t]) => t), topK: 2 },
    });
    expect(ok.status).toBe(200);
    const predictions = ok.body.predictions as Prediction[];
    expect(predictions.map((x) => x.label)).toEqual(NEW_TEXTS.map(([, l]) => l));
    for (const x of predictions) {
      expect(x.top).toHaveLength(2);
      expect(x.top[0].score).toBeGreaterThanOrEqual(x.top[1].score);
    }

    // Bad input: a 400 problem naming the field.
    const notString = await call(p.servingUrl, 'POST', predictPath, {
      token: key,
      body: { instances: ['fine', 42] },
    });
    expect(notString.status).toBe(400);
    expect(notString.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(notString.body.errors[0].field).toBe('instances[1]');
    const tooLong = await call(p.servingUrl, 'POST', predictPath, {
      token: key,
      body: { instances: ['x'.repeat(20_001)] },
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0].field).toBe('instances[0]');
    const notArray = await call(p.servingUrl, 'POST', predictPath, {
      token: key,
      body: { instances: 'hello' },
    });
    expect(notArray.status).toBe(400);
    expect(notArray.body.errors[0].field).toBe('instances');
    const tooMany = await call(p.servingUrl, 'POST', predictPath, {
      token: key,
      body: { instances: Array.from({ length: 1001 }, () => 'a') },
    });
    expect(tooMany.status).toBe(413);
    const form = new FormData();
    form.append('image', new Blob([await mnistPng(3, 1)], { type: 'image/png' }), '3.png');
    const image = await fetch(`${p.servingUrl}${predictPath}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expect(image.status).toBe(422);
    expect(((await image.json()) as { reason: string }).reason).toBe('MODEL_INPUT_MISMATCH');

    // Word-level LIME: POST /v1/models/:id/explain, and predict's explain option.
    const explainPath = `/v1/models/${jobId}/explain`;
    const italian = NEW_TEXTS[1][0];
    const ex = await call(p.servingUrl, 'POST', explainPath, {
      token: key,
      body: { instances: [italian], explain: { samples: 128, seed: 1 } },
    });
    expect(ex.status).toBe(200);
    expect(ex.body).toMatchObject({
      modelId: jobId,
      method: 'lime',
      target: { label: 'it' },
      cost: { modelTexts: 128 },
    });
    const words = ex.body.words as { word: string; weight: number; spans: [number, number][] }[];
    expect(words.length).toBe(new Set(italian.toLowerCase().match(/[\p{L}\p{N}]+/gu)).size);
    for (const w of words)
      for (const [s, e] of w.spans) expect(italian.slice(s, e).toLowerCase()).toBe(w.word);
    // The words that speak for Italian outweigh those against it.
    expect(words.reduce((a, w) => a + w.weight, 0)).toBeGreaterThan(0);
    const explained = await call(p.servingUrl, 'POST', predictPath, {
      token: key,
      body: { instances: NEW_TEXTS.map(([t]) => t), explain: { samples: 32 } },
    });
    expect(explained.status).toBe(200);
    for (const [i, x] of (
      explained.body.predictions as (Prediction & { explanation: { target: { label: string } } })[]
    ).entries())
      expect(x.explanation.target.label).toBe(NEW_TEXTS[i][1]);
    for (const [body, status] of [
      [{ instances: [italian], explain: { grid: 8 } }, 400], // an image-only field
      [{ instances: [italian], explain: { samples: 100_000 } }, 400],
      [{ instances: [italian], explain: { target: 3 } }, 422], // 3 classes
      [{ instances: [italian, italian] }, 413], // one text per explain request
      [{ instances: ['é'.repeat(5_001)] }, 400],
    ] as const) {
      const bad = await call(p.servingUrl, 'POST', explainPath, { token: key, body });
      expect([bad.status, bad.headers.get('content-type')]).toEqual([
        status,
        expect.stringMatching(/problem\+json/),
      ]);
    }
    const imageToText = await fetch(`${p.servingUrl}${explainPath}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expect(imageToText.status).toBe(422);

    // The download predicts the same outside the platform: text-model.json + text-weights.bin.
    const dl = await call(p.apiUrl, 'POST', `/v1/models/${jobId}/download`, { token: key });
    expect(dl.status).toBe(200);
    const files = new Map(
      (await entriesOf(Buffer.from(await (await fetch(dl.body.url)).arrayBuffer()))).map((e) => [
        e.path,
        e.data,
      ]),
    );
    for (const f of ['manifest.json', 'text-model.json', 'text-weights.bin', 'evaluation.json'])
      expect(files.has(f)).toBe(true);
    const offline = deserializeTextClassifier(
      JSON.parse(files.get('text-model.json')!.toString()),
      new Uint8Array(files.get('text-weights.bin')!),
    ).classify(
      NEW_TEXTS.map(([t]) => t),
      2,
    );
    offline.forEach((o, i) => {
      expect(o.label).toBe(predictions[i].label);
      expect(o.score).toBeCloseTo(predictions[i].score, 5);
    });

    // Batch prediction over a JSON file of instances (one bad instance gets its error row).
    const batchForm = new FormData();
    batchForm.append(
      'file',
      new Blob([JSON.stringify({ instances: [...NEW_TEXTS.map(([t]) => t), 7] })], {
        type: 'application/json',
      }),
      'texts.json',
    );
    const batch = await fetch(`${p.apiUrl}/v1/models/${jobId}/batch-predictions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: batchForm,
    });
    expect(batch.status).toBe(202);
    const batchId = ((await batch.json()) as { id: string }).id;
    const done = await jobSucceeded(p, key, batchId, { what: 'batch prediction', timeoutMs: 60_000 });
    expect(done.result).toMatchObject({ texts: 4, predicted: 3, failed: 1 });
    const out = await call(p.apiUrl, 'GET', `/v1/jobs/${batchId}/output`, { token: key });
    const lines = (await (await fetch(out.body.url as string)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; label?: string; error?: string });
    expect(lines.map((l) => l.label ?? null)).toEqual([...NEW_TEXTS.map(([, l]) => l), null]);
    expect(lines[3]).toMatchObject({ path: '3', error: expect.stringMatching(/string/) });
  });

  it('trains the CNN when the job asks for it (options.textModel), serves it, and its download predicts the same', async () => {
    const versionId = await textDataset(p, key);
    const bad = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { task: 'text-classification', datasetVersionId: versionId, options: { textModel: 'rnn' } },
    });
    expect(bad.status).toBe(400);

    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'text-classification',
        datasetVersionId: versionId,
        mode: 'fast',
        budget: { maxMinutes: 5 },
        options: { textModel: 'cnn', seed: 1 },
      },
    });
    expect(created.status).toBe(202);
    const jobId = created.body.id as string;
    const job = await jobSucceeded(p, key, jobId, {
      what: 'text CNN training to finish',
      timeoutMs: 120_000,
    });
    console.log(
      `text CNN e2e: test accuracy ${String(job.result.accuracy)} on ${String(job.result.testSamples)} held-out texts`,
    );
    expect(job.result).toMatchObject({ backbone: 'text-cnn', candidate: 'cnn/balanced' });
    // 12 held-out texts of 3 languages (chance 0.33); runs here gave 1.0 (threshold with margin).
    expect(job.result.accuracy).toBeGreaterThanOrEqual(0.6);
    const model = await call(p.apiUrl, 'GET', `/v1/models/${jobId}`, { token: key });
    expect(model.body.backbone).toBe('text-cnn');

    const dep = await call(p.apiUrl, 'POST', '/v1/deployments', {
      token: key,
      body: { modelId: jobId, name: 'lang-cnn' },
    });
    expect(dep.status).toBe(201);
    const served = await call(p.servingUrl, 'POST', `/v1/deployments/${dep.body.id}/predict`, {
      token: key,
      body: { instances: NEW_TEXTS.map(([t]) => t), topK: 3 },
    });
    expect(served.status).toBe(200);
    const predictions = served.body.predictions as Prediction[];
    expect(predictions).toHaveLength(3);

    const dl = await call(p.apiUrl, 'POST', `/v1/models/${jobId}/download`, { token: key });
    const files = new Map(
      (await entriesOf(Buffer.from(await (await fetch(dl.body.url)).arrayBuffer()))).map((e) => [
        e.path,
        e.data,
      ]),
    );
    const offline = deserializeTextClassifier(
      JSON.parse(files.get('text-model.json')!.toString()),
      new Uint8Array(files.get('text-weights.bin')!),
    );
    expect(offline.algorithm).toBe('text-cnn');
    offline
      .classify(
        NEW_TEXTS.map(([t]) => t),
        3,
      )
      .forEach((o, i) => {
        expect(o.label).toBe(predictions[i].label);
        expect(o.score).toBeCloseTo(predictions[i].score, 5);
      });
  });
  it('runs the candidates as trials (mode auto), survives a SIGKILL without re-running finished trials, and keeps the best on validation', async () => {
    const versionId = await textDataset(p, key);
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'text-classification',
        datasetVersionId: versionId,
        mode: 'auto',
        budget: { maxMinutes: 10 },
        options: { seed: 3 },
      },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const trialsOf = () => jobTrials<TextTrial>(p, key, id);

    // The CNN runs last and longest: kill the worker without warning while it trains.
    const before = await trialsWhen<TextTrial>(
      p,
      key,
      id,
      (t) => t.some((x) => x.params.family === 'text-cnn' && x.status === 'RUNNING'),
      { what: 'the CNN trial to start after the linear ones', timeoutMs: 180_000 },
    );
    const victim = p.workers[p.workers.length - 1];
    victim.child.kill('SIGKILL');
    await victim.exited;
    const running = (await call(p.apiUrl, 'GET', `/v1/jobs/${id}`, { token: key })).body;
    expect(running.status).not.toBe('SUCCEEDED');
    const finishedBefore = (await trialsOf()).filter((t) => t.status !== 'RUNNING');
    expect(finishedBefore.length).toBeGreaterThanOrEqual(before.filter((t) => t.status !== 'RUNNING').length);
    expect(finishedBefore.length).toBe(7);
    await p.startWorker();

    const job = await jobSucceeded(p, key, id, { what: 'the text search to finish', timeoutMs: 300_000 });
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    const trials = await trialsOf();
    // Four default linear candidates, three sampled linear configurations, the CNN.
    expect(trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(trials.map((t) => t.params.family)).toEqual([...Array<string>(7).fill('text-linear'), 'text-cnn']);
    expect(trials.slice(4, 7).map((t) => t.params.candidate)).toEqual([
      'sampled-1/' + String(trials[4].params.classWeight),
      'sampled-2/' + String(trials[5].params.classWeight),
      'sampled-3/' + String(trials[6].params.classWeight),
    ]);
    for (const t of trials) {
      expect(t.status).toBe('SUCCEEDED');
      expect(t.costSeconds).toBeGreaterThan(0);
      expect(t.metrics).toMatchObject({
        validationAccuracy: expect.any(Number),
        validationMacroF1: expect.any(Number),
        epochs: expect.any(Number),
      });
      expect(t.curves?.length).toBe(t.metrics!.epochs);
    }
    expect(job.result.resumedTrial).toBe(7);
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
    const starts = (i: number) =>
      events.filter((e) => new RegExp(`^trial ${i} (started|restarted)`).test(e.message ?? '')).length;
    for (const f of finishedBefore) expect(starts(f.index)).toBe(1);
    expect(starts(7)).toBe(2);

    // The model is the trial best on validation macro-F1 (ties: the earlier trial), tested once.
    const best = [...trials].sort(
      (a, b) => b.metrics!.validationMacroF1 - a.metrics!.validationMacroF1 || a.index - b.index,
    )[0];
    expect(job.result.bestTrial).toBe(best.index);
    expect(job.result.candidate).toBe(best.params.candidate);
    expect(trials.filter((t) => t.modelId !== null).map((t) => t.index)).toEqual([best.index]);
    expect(trials.filter((t) => t.modelKept).map((t) => t.index)).toEqual([best.index]);
    const model = await call(p.apiUrl, 'GET', `/v1/models/${id}`, { token: key });
    expect(model.status).toBe(200);
    const board = model.body.report.leaderboard as { trial: number; metric: string; value: number }[];
    expect(board).toHaveLength(8);
    expect(board[0]).toMatchObject({ trial: best.index, metric: 'validationMacroF1' });
    expect(board.map((e) => e.value)).toEqual([...board.map((e) => e.value)].sort((a, b) => b - a));
    expect(model.body.report.accuracy).toBeCloseTo(job.result.accuracy as number, 6);
    console.log(
      `text search e2e: ${trials.length} trials, best #${best.index} ${String(best.params.candidate)} val macro-F1 ${best.metrics!.validationMacroF1}, test accuracy ${String(job.result.accuracy)} on ${String(job.result.testSamples)}`,
    );
    // The same 12 held-out texts as the fast job above (threshold from its runs, with margin).
    expect(job.result.accuracy).toBeGreaterThanOrEqual(0.75);
  });
});
