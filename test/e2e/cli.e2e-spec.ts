import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { call, startPlatform, type Platform } from '../support/platform';
import { ModelsmithClient, uploadDatasetFile, watchJob, type UploadState } from '@modelsmith/sdk';
import { entriesOf, mnistPng, mnistZip, zipOf } from '../support/archives';

jest.setTimeout(300_000);

const CLI = join(__dirname, '..', '..', 'dist', 'apps', 'cli', 'src', 'main.js');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The `modelsmith` CLI as a user runs it (the built binary, its own config directory), against the real
 * platform: login, upload with --wait, train with --watch, list, download, deploy, predict a folder;
 * exit codes and --json output; problem documents turned into readable errors.
 */
describe('modelsmith CLI (built binary, real API, worker, serving)', () => {
  let p: Platform;
  let key: string;
  let home: string;

  const cli = (args: string[], env: Record<string, string> = {}): Promise<Ran> =>
    promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, MODELSMITH_CONFIG_DIR: join(home, 'cfg'), ...env },
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );
  const json = <T>(r: Ran): T => {
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'ms-cli-'));
    p = await startPlatform();
    const t = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'CLI' },
    });
    key = t.body.apiKey.key;
  });
  afterAll(async () => {
    await p?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('says what is missing before login, refuses a wrong key, and saves a good one privately', async () => {
    const none = await cli(['datasets', 'list']);
    expect(none.code).toBe(64);
    expect(none.stderr).toMatch(/no API URL: run `modelsmith login/);

    const bad = await cli(['login', '--url', p.apiUrl, '--key', 'msk_notakey']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: .*\(UNAUTHENTICATED\)/m);
    expect(bad.stderr).toMatch(/hint: run `modelsmith login`/);

    const unreachable = await cli(['datasets', 'list', '--url', 'http://127.0.0.1:9', '--key', key]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the API/);

    const ok = json<{ saved: string }>(await cli(['--json', 'login', '--url', p.apiUrl, '--key', key]));
    expect((await stat(ok.saved)).mode & 0o777).toBe(0o600);
    expect(json<{ items: unknown[] }>(await cli(['--json', 'datasets', 'list'])).items).toEqual([]);
  });

  it('SDK: an interrupted multipart upload resumes without sending acknowledged parts again', async () => {
    const client = new ModelsmithClient({ baseUrl: p.apiUrl, apiKey: key });
    const ds = await client.ok(
      client.api.POST('/v1/datasets', { body: { name: 'resumed', task: 'image-classification' } }),
    );
    // Three 8 MiB parts: digits plus an incompressible file the ingestion skips.
    const file = join(home, 'big.zip');
    const digits = (await entriesOf(await mnistZip(6))).map((e) => ({
      ...e,
      path: e.path.replace(/^digits\//, ''),
    }));
    await writeFile(
      file,
      await zipOf([...digits, { path: 'noise.bin', data: randomBytes(17 * 1024 * 1024) }]),
    );
    const puts: number[] = [];
    const counting = new ModelsmithClient({
      baseUrl: p.apiUrl,
      apiKey: key,
      fetch: async (url: string | URL | Request, init?: RequestInit) => {
        const href = url instanceof Request ? url.url : url.toString();
        if (init?.method === 'PUT') puts.push(Number(new URL(href).searchParams.get('partNumber')));
        return fetch(url, init);
      },
    });
    let saved: UploadState | undefined;
    await expect(
      uploadDatasetFile(counting, (ds as { id: string }).id, file, {
        options: { imageSize: 28, channels: 1 },
        concurrency: 1,
        onState: (s) => {
          saved = structuredClone(s);
          if (Object.keys(s.etags).length === 1) throw new Error('connection lost');
        },
      }),
    ).rejects.toThrow('connection lost');
    expect(saved?.partCount).toBe(3);
    expect(Object.keys(saved!.etags)).toEqual(['1']);
    puts.length = 0;
    const progress: number[] = [];
    const done = await uploadDatasetFile(counting, (ds as { id: string }).id, file, {
      resume: saved,
      concurrency: 1,
      onProgress: (sent) => progress.push(sent),
    });
    expect(puts.sort()).toEqual([2, 3]);
    expect(progress[0]).toBe(8 * 1024 * 1024);
    expect(progress.at(-1)).toBe((await stat(file)).size);
    const job = await watchJob(client, done.jobId, { intervalMs: 200 });
    expect({ status: job.status, reason: job.failureReason }).toEqual({ status: 'SUCCEEDED', reason: null });
  });

  it('uploads, trains with --watch, downloads, deploys and predicts a folder', async () => {
    const ds = json<{ id: string }>(await cli(['--json', 'datasets', 'create', 'digits']));
    const zip = join(home, 'digits.zip');
    await writeFile(zip, await mnistZip(10));
    const up = json<{ version: { id: string; status: string }; job: { status: string } }>(
      await cli([
        '--json',
        'datasets',
        'upload',
        ds.id,
        zip,
        '--image-size',
        '28',
        '--channels',
        '1',
        '--wait',
      ]),
    );
    expect(up.job.status).toBe('SUCCEEDED');
    expect(up.version.status).toBe('READY');

    const bad = await cli(['train', up.version.id, '--epochs', 'x']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--epochs must be a positive integer/);

    const trained = await cli([
      '--json',
      'train',
      up.version.id,
      '--mode',
      'fast',
      '--backbone',
      'small_cnn_xs',
      '--epochs',
      '2',
      '--watch',
    ]);
    const job = json<{ status: string; result: { modelId: string; accuracy: number } }>(trained);
    expect(job.status).toBe('SUCCEEDED');
    const modelId = job.result.modelId;

    const models = json<{ items: { id: string }[] }>(await cli(['--json', 'models', 'list']));
    expect(models.items.map((m) => m.id)).toContain(modelId);

    const dest = join(home, 'model.zip');
    const dl = json<{ file: string; sizeBytes: number }>(
      await cli(['--json', 'models', 'download', modelId, '-o', dest]),
    );
    expect((await stat(dest)).size).toBe(dl.sizeBytes);
    expect(dl.sizeBytes).toBeGreaterThan(1000);

    const dep = json<{ id: string; predictUrl: string }>(await cli(['--json', 'deploy', modelId]));
    const folder = join(home, 'imgs');
    await mkdir(join(folder, 'sub'), { recursive: true });
    await writeFile(join(folder, 'a-3.png'), await mnistPng(3, 900));
    await writeFile(join(folder, 'sub', 'b-7.png'), await mnistPng(7, 901));
    await writeFile(join(folder, 'notes.txt'), 'not an image');
    const preds = json<{ file: string; prediction: { label: string; score: number } }[]>(
      await cli(['--json', 'predict', dep.id, folder, '--top-k', '2']),
    );
    expect(preds.map((r) => r.file)).toEqual([join(folder, 'a-3.png'), join(folder, 'sub', 'b-7.png')]);
    for (const r of preds) {
      expect(r.prediction.label).toMatch(/^\d$/);
      expect(r.prediction.score).toBeGreaterThan(0);
    }

    // A human-readable failure from the problem document, with the job's own exit code path unused.
    const missing = await cli(['models', 'get', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/\(NOT_FOUND\)/);
  });
});
