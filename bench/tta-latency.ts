/**
 * What test-time averaging costs in serving: the product's first-trial model (MobileNetV2 at 224 px,
 * the multi-layer feature head; untrained head weights: the cost does not depend on them) exported
 * three times, without test-time views, with `tta: ['mirror']` and with `['mirror', 'gray']`, served by the same ServingEngine (inference
 * thread, wasm, as the serving app runs it). Each round sends the same PNGs (64 px, upscaled as the
 * manifest's trainedFrom says) to both models in turn (interleaved, so the shared machine's drift
 * hits the arms alike): one image per request, sequentially (batch-1 latency), then 16 images in one
 * request. Wall ms and process CPU ms (every thread) per image; the ratios over the plain model.
 *
 * Usage: nice npx tsx bench/tta-latency.ts [--rounds 5] [--json bench/results/tta-latency.json]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildClassifier,
  exportModel,
  initBackend,
  InMemoryArtifactStore,
  ModelZoo,
  type ExportModelInfo,
} from '../libs/ml/src';
import { ServingEngine, type ModelRef } from '../libs/serving/src';
import { noisePngs } from '../libs/serving/src/spec-fixtures';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    single: { type: 'string', default: '12' },
    json: { type: 'string', default: join(__dirname, 'results', 'tta-latency.json') },
  },
});
const log = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
/** The models: no test-time views, the mirror, mirror + gray. */
const ARMS = ['plain', 'mirror', 'tta'] as const;
type Arm = (typeof ARMS)[number];
type Sum = { wallMs: number; cpuMs: number; images: number };
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const backend = await initBackend({ prefer: 'wasm' });
  const zoo = new ModelZoo();
  const backbone = await zoo.load('mobilenet_v2', { inputSize: { height: 224, width: 224, channels: 3 } });
  const classifier = buildClassifier(backbone, { numClasses: 5, seed: 1, features: 'multi' });
  const store = new InMemoryArtifactStore();
  const info: ExportModelInfo = {
    task: 'image-classification',
    input: {
      kind: 'image',
      height: 224,
      width: 224,
      channels: 3,
      fit: 'cover',
      trainedFrom: { height: 64, width: 64 },
    },
    normalization: backbone.spec.normalization,
    classNames: ['animals', 'buildings', 'food', 'plants', 'vehicles'],
    backboneId: 'mobilenet_v2',
    metrics: {},
  };
  await exportModel(classifier.model, store, 'plain/', info);
  await exportModel(classifier.model, store, 'mirror/', { ...info, tta: ['mirror'] });
  await exportModel(classifier.model, store, 'tta/', { ...info, tta: ['mirror', 'gray'] });
  classifier.model.dispose();
  const refs: Record<Arm, ModelRef> = {
    plain: { modelId: 'plain', version: 'v1', prefix: 'plain/' },
    mirror: { modelId: 'mirror', version: 'v1', prefix: 'mirror/' },
    tta: { modelId: 'tta', version: 'v1', prefix: 'tta/' },
  };
  const engine = new ServingEngine({
    reader: store,
    maxModelBytes: 1 << 30,
    maxBatchSize: 16,
    autoBatchSize: false,
    maxBatchWaitMs: 2,
    maxQueuedImages: 64,
    inference: 'thread',
    threadBackend: 'wasm',
  });
  const pngs = await noisePngs(16, 5, 3, () => 64);
  const deadline = () => Date.now() + 600_000;
  for (const ref of Object.values(refs)) {
    await engine.warm(ref);
    await engine.predict(ref, pngs.slice(0, 2), { deadline: deadline() });
  }
  const single = Number(values.single);
  const zero = () => ({
    single: { wallMs: 0, cpuMs: 0, images: 0 },
    batch16: { wallMs: 0, cpuMs: 0, images: 0 },
  });
  const totals: Record<Arm, Record<'single' | 'batch16', Sum>> = {
    plain: zero(),
    mirror: zero(),
    tta: zero(),
  };
  const load: number[] = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const arm of ARMS) {
      let t = performance.now();
      let c = cpuMs();
      for (let i = 0; i < single; i++)
        await engine.predict(refs[arm], [pngs[i % pngs.length]], { deadline: deadline() });
      totals[arm].single.wallMs += performance.now() - t;
      totals[arm].single.cpuMs += cpuMs() - c;
      totals[arm].single.images += single;
      t = performance.now();
      c = cpuMs();
      await engine.predict(refs[arm], pngs, { deadline: deadline() });
      totals[arm].batch16.wallMs += performance.now() - t;
      totals[arm].batch16.cpuMs += cpuMs() - c;
      totals[arm].batch16.images += pngs.length;
      load.push(loadavg()[0]);
    }
    log(`round ${r + 1} done (load ${loadavg()[0].toFixed(1)})`);
  }
  await engine.close();
  const per = (a: Sum) => ({
    wallMsPerImage: a.wallMs / a.images,
    cpuMsPerImage: a.cpuMs / a.images,
    images: a.images,
  });
  const arms = Object.fromEntries(
    ARMS.map((arm) => [arm, { single: per(totals[arm].single), batch16: per(totals[arm].batch16) }]),
  ) as Record<Arm, Record<'single' | 'batch16', ReturnType<typeof per>>>;
  const ratio = (arm: Arm, k: 'single' | 'batch16') => ({
    wall: arms[arm][k].wallMsPerImage / arms.plain[k].wallMsPerImage,
    cpu: arms[arm][k].cpuMsPerImage / arms.plain[k].cpuMsPerImage,
  });
  const out = {
    bench: 'tta-latency',
    started,
    finished: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      loadAverage1: {
        min: Math.min(...load),
        max: Math.max(...load),
        mean: load.reduce((a, b) => a + b, 0) / load.length,
      },
    },
    backend: backend.name,
    model: 'mobilenet_v2 (nsfwjs) at 224 px, multi-layer feature head, 5 classes; 64 px PNGs upscaled',
    serving: 'ServingEngine, inference thread, wasm',
    arms,
    overPlain: Object.fromEntries(
      (['mirror', 'tta'] as const).map((arm) => [
        arm === 'tta' ? 'mirror+gray' : arm,
        { single: ratio(arm, 'single'), batch16: ratio(arm, 'batch16') },
      ]),
    ),
  };
  await mkdir(dirname(values.json), { recursive: true });
  await writeFile(values.json, `${JSON.stringify(out, null, 2)}\n`);
  log(JSON.stringify(out.overPlain));
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
