/**
 * Platform benchmark (issue 5): run with `npm run build && npx tsx bench/platform-dispatch.ts`.
 *
 * (1) dispatch latency: create -> RUNNING for noop jobs through the real API, queue and worker
 *     (both timestamps from Postgres' clock), p50/p95;
 * (2) platform overhead: the same small training run (MNIST digits, small CNN, fixed epochs) as a
 *     job through API + queue + worker + object store, and by calling the same pipeline function
 *     in-process over in-memory shards, in the same run. Reports the ratio.
 * Writes bench/results/platform-dispatch.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { bufferSource, ingest, MemoryShardStore, type ImageShardIndex } from '@modelsmith/datasets';
import { initBackend, InMemoryArtifactStore, MemoryCheckpointStore, ModelZoo } from '@modelsmith/ml';
import { call, startPlatform, waitFor } from '../test/support/platform';
import { readyDataset } from '../test/support/datasets';
import { mnistZip } from '../test/support/archives';
import { runImageClassification } from '../apps/worker/src/training/image-classification';
import { buildRecipe, chooseBackbone } from '../apps/worker/src/training/recipe';

const DISPATCH_JOBS = Number(process.argv[2] ?? 30);
const PER_CLASS = 20;
const EPOCHS = 4;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function direct(zip: Buffer): Promise<{ seconds: number; accuracy: number }> {
  await initBackend({ prefer: 'wasm' });
  const t0 = performance.now();
  const store = new MemoryShardStore();
  const { index } = await ingest(
    bufferSource(zip, 'digits.zip', 'application/zip'),
    { image: { size: 28, channels: 1 } },
    store,
  );
  const img = index as ImageShardIndex;
  const zoo = new ModelZoo();
  const shape = {
    height: 28,
    width: 28,
    channels: img.channels,
    numClasses: img.labels.length,
    trainSamples: img.samples.filter((s) => s.split === 'train').length,
  };
  const spec = zoo.get(chooseBackbone(undefined, shape));
  const recipe = buildRecipe(spec, shape, 'fast', { epochs: EPOCHS });
  const result = await runImageClassification(
    {
      index: img,
      shards: store,
      zoo,
      spec,
      recipe,
      checkpoints: new MemoryCheckpointStore(),
      writer: new InMemoryArtifactStore(),
      modelPrefix: 'm/',
      fit: 'cover',
    },
    {
      signal: new AbortController().signal,
      keepModelOnStop: () => false,
      onProgress: async () => undefined,
      onEpoch: async () => undefined,
      onModel: async () => undefined,
    },
  );
  return { seconds: (performance.now() - t0) / 1000, accuracy: result.model.report.accuracy };
}

async function main(): Promise<void> {
  const load = loadavg();
  const p = await startPlatform({ LOG_LEVEL: 'error' });
  try {
    const a = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'bench', maxConcurrentJobs: 4 },
    });
    const key = a.body.apiKey.key as string;

    // (1) dispatch latency, one job at a time so queueing behind other jobs does not count.
    const latencies: number[] = [];
    for (let i = 0; i < DISPATCH_JOBS; i++) {
      const r = await call(p.apiUrl, 'POST', '/v1/jobs', {
        token: key,
        body: { task: 'noop', options: { durationMs: 0 } },
      });
      const id = r.body.id as string;
      const job = await waitFor(
        'noop done',
        async () => {
          const row = await p.system.job.findUniqueOrThrow({ where: { id } });
          return row.status === 'SUCCEEDED' ? row : undefined;
        },
        60_000,
        20,
      );
      latencies.push(job.startedAt!.getTime() - job.createdAt.getTime());
    }
    latencies.sort((x, y) => x - y);

    // (2) the same training run through the platform and directly.
    const zip = await mnistZip(PER_CLASS);
    const t0 = performance.now();
    const versionId = await readyDataset(p, key, zip, { imageSize: '28', channels: '1' });
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        mode: 'fast',
        options: { epochs: EPOCHS },
      },
    });
    const job = await waitFor(
      'training done',
      async () => {
        const r = await call(p.apiUrl, 'GET', `/v1/jobs/${created.body.id as string}`, { token: key });
        if (r.body.status === 'FAILED') throw new Error(String(r.body.failureReason));
        return r.body.status === 'SUCCEEDED' ? r.body : undefined;
      },
      900_000,
      250,
    );
    const platformSeconds = (performance.now() - t0) / 1000;
    const directRun = await direct(zip);

    const out = {
      benchmark: 'platform-dispatch',
      started: new Date().toISOString(),
      machine: { loadavgBefore: load, loadavgAfter: loadavg() },
      dispatch: {
        jobs: DISPATCH_JOBS,
        createToRunningMs: {
          p50: percentile(latencies, 50),
          p95: percentile(latencies, 95),
          max: latencies[latencies.length - 1],
        },
      },
      training: {
        what: `MNIST digits ${PER_CLASS}/class at 28 px, small CNN, ${EPOCHS} epochs, upload+ingest+train+evaluate+export`,
        platformSeconds: Number(platformSeconds.toFixed(2)),
        platformAccuracy: job.result.accuracy as number,
        directSeconds: Number(directRun.seconds.toFixed(2)),
        directAccuracy: directRun.accuracy,
        overheadRatio: Number((platformSeconds / directRun.seconds).toFixed(3)),
      },
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results', 'platform-dispatch.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await p.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
