/**
 * Training/inference throughput of the ML engine, with its peers measured side by side in the same run:
 *   (a) small 28x28 CNN training: wasm + our kernels (1 thread; data-parallel over all cores) vs the
 *       tfjs `cpu` backend;
 *   (b) MobileNetV2 at 224 px (nsfwjs backbone from the zoo + new 10-class head, whole network
 *       trainable): fine-tuning img/s and inference img/s;
 *   (c) the same two models in PyTorch on the same CPU (bench/pytorch/bench_torch.py), "absent" if
 *       Debian's python3-torch is not installed.
 * Writes bench/results/ml-train.json. Usage: npx tsx bench/ml-train.ts [--quick]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../libs/ml/src/backend';
import { DataParallelTrainer, type Batch, type LossName } from '../libs/ml/src/parallel';
import { computeLoss } from '../libs/ml/src/parallel/replica';
import { buildClassifier, ModelZoo } from '../libs/ml/src/zoo';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 3 : 10;
const CNN_BATCH = 64;
const MNV2_BATCH = 8;
/**
 * One wasm instance trains MobileNetV2 at the PyTorch peer's batch (8); the data-parallel run splits
 * the same batch over its workers. (Before the kernel work a batch-8 step exhausted the wasm heap.)
 */
const MNV2_SINGLE_BATCH = MNV2_BATCH;
/** The pure-JS cpu backend needs seconds per sample: a few samples only. */
const CPU_BATCH = 2;
const WORKERS = os.availableParallelism();

const round = (x: number) => Math.round(x * 100) / 100;
const log = (msg: string) => process.stderr.write(`${msg}\n`);

function smallCnn(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 128, activation: 'relu' }));
  m.add(tf.layers.dense({ units: 10 }));
  return m;
}

async function mobileNetV2(): Promise<tf.LayersModel> {
  const backbone = await new ModelZoo().load('mobilenet_v2', { inputSize: { height: 224, width: 224 } });
  return buildClassifier(backbone, { numClasses: 10, freezeBackbone: false }).model;
}

function randomBatch(shape: number[], classes: number): { x: Batch; y: Batch } {
  const n = shape[0];
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => Math.random() * 2 - 1);
  const y = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) y[i * classes + Math.floor(Math.random() * classes)] = 1;
  return { x: { data: x, shape }, y: { data: y, shape: [n, classes] } };
}

type Rate = Awaited<ReturnType<typeof rate>>;

/** A failed measurement is recorded, not fatal: the others still run. */
async function attempt<T extends object>(
  what: string,
  run: () => Promise<T>,
): Promise<T | { error: string }> {
  log(what);
  const loadavg1 = round(os.loadavg()[0]);
  try {
    const r = { ...(await run()), loadavg1Before: loadavg1 };
    log(`  ${JSON.stringify(r)}`);
    return r;
  } catch (err) {
    log(`  failed: ${String(err)}`);
    return { error: String(err instanceof Error ? err.message : err).slice(0, 300) };
  }
}

const perSec = (r: object) => ('samplesPerSec' in r ? (r as Rate).samplesPerSec : 0);
const perCpuSec = (r: object) => ('samplesPerCpuSec' in r ? (r as Rate).samplesPerCpuSec : 0);

/** Runs `step` (after `warmup` untimed calls) until `seconds` have passed and at least `minSteps` ran. */
async function rate(step: () => unknown, samplesPerStep: number, seconds: number, warmup = 1, minSteps = 2) {
  for (let i = 0; i < warmup; i++) await step();
  let steps = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  while (steps < minSteps || performance.now() - t0 < seconds * 1000) {
    await step();
    steps++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    samplesPerSec: round((steps * samplesPerStep) / elapsed),
    // Samples per second of CPU time used by this process (all threads): less sensitive to other load.
    samplesPerCpuSec: round((steps * samplesPerStep) / cpuSeconds),
    steps,
    seconds: round(elapsed),
    cpuSeconds: round(cpuSeconds),
  };
}

/** Single-process training step (custom loop: variableGrads + optimizer). */
function trainStep(model: tf.LayersModel, opt: tf.Optimizer, loss: LossName, b: { x: Batch; y: Batch }) {
  return () =>
    tf.tidy(() => {
      const xs = tf.tensor(b.x.data, b.x.shape);
      const ys = tf.tensor(b.y.data, b.y.shape);
      opt.minimize(() => computeLoss(loss, ys, model.apply(xs, { training: true }) as tf.Tensor));
    });
}

async function inProcessTraining(
  backend: 'wasm' | 'cpu',
  build: () => Promise<tf.LayersModel>,
  loss: LossName,
  b: { x: Batch; y: Batch },
  seconds: number,
  minSteps: number,
) {
  await initBackend({ prefer: backend });
  const model = await build();
  const opt = tf.train.adam(1e-3);
  try {
    return await rate(trainStep(model, opt, loss, b), b.x.shape[0], seconds, 1, minSteps);
  } finally {
    model.dispose();
    opt.dispose();
  }
}

async function dataParallelTraining(
  build: () => Promise<tf.LayersModel>,
  loss: LossName,
  b: { x: Batch; y: Batch },
  seconds: number,
  minSteps: number,
) {
  await initBackend({ prefer: 'wasm' });
  const model = await build();
  const trainer = await DataParallelTrainer.create({
    model,
    loss,
    workers: WORKERS,
    optimizer: { name: 'adam', learningRate: 1e-3 },
  });
  try {
    // trainBatch takes ownership of the shard buffers, so each step gets fresh copies.
    const step = () =>
      trainer.trainBatch({ ...b.x, data: b.x.data.slice() }, { ...b.y, data: b.y.data.slice() });
    return { workers: trainer.workers, ...(await rate(step, b.x.shape[0], seconds, 1, minSteps)) };
  } finally {
    await trainer.dispose();
    model.dispose();
  }
}

/**
 * Where one training step's time goes: per-kernel wall time from tf.profile (kernels of ours that
 * run other kernels inside count as one), summed by kernel name, largest first.
 */
async function stepProfile(
  build: () => Promise<tf.LayersModel>,
  loss: LossName,
  b: { x: Batch; y: Batch },
  top: number,
) {
  await initBackend({ prefer: 'wasm' });
  const model = await build();
  const opt = tf.train.adam(1e-3);
  try {
    const step = trainStep(model, opt, loss, b);
    step();
    const t0 = performance.now();
    step();
    const stepMs = performance.now() - t0;
    const info = await tf.profile(step);
    const byKernel = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      e.calls++;
      byKernel.set(k.name, e);
    }
    const rows = [...byKernel.entries()].sort((p, q) => q[1].ms - p[1].ms);
    const kernelMs = rows.reduce((sum, [, e]) => sum + e.ms, 0);
    return {
      batch: b.x.shape[0],
      stepMs: round(stepMs),
      kernelMs: round(kernelMs),
      top: rows.slice(0, top).map(([kernel, e]) => ({
        kernel,
        ms: round(e.ms),
        calls: e.calls,
        share: round(e.ms / kernelMs),
      })),
    };
  } finally {
    model.dispose();
    opt.dispose();
  }
}

async function inference(build: () => Promise<tf.LayersModel>, x: Batch, seconds: number) {
  await initBackend({ prefer: 'wasm' });
  const model = await build();
  const xs = tf.tensor(x.data, x.shape);
  try {
    return await rate(
      () => tf.tidy(() => (model.predict(xs) as tf.Tensor).dataSync()),
      x.shape[0],
      seconds,
      1,
      2,
    );
  } finally {
    xs.dispose();
    model.dispose();
  }
}

/** The PyTorch peer for one model (`only`), with `threads` intra-op threads. */
function pytorch(only: 'cnn' | 'mnv2', threads: number): Record<string, unknown> {
  const script = path.join(__dirname, 'pytorch', 'bench_torch.py');
  const args = [script, '--only', only, '--threads', String(threads)];
  args.push('--cnn-batch', String(CNN_BATCH), '--mnv2-batch', String(MNV2_BATCH));
  args.push('--cnn-seconds', String(SECONDS), '--mnv2-seconds', String(SECONDS * 2));
  log(`PyTorch ${only}, ${threads} thread(s)`);
  // Debian's python: a pyenv python3 earlier on PATH would not see python3-torch.
  const res = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', timeout: 30 * 60_000 });
  if (res.error || res.status !== 0)
    return { status: 'absent', detail: (res.error?.message ?? res.stderr ?? '').slice(-300) };
  const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  log(`  ${JSON.stringify(out)}`);
  return out;
}

const ratio = (a: number | undefined, b: number | undefined) => (a && b ? round(a / b) : 'absent');

async function main() {
  const started = new Date().toISOString();
  const load0 = os.loadavg();
  const cnnBatch = randomBatch([CNN_BATCH, 28, 28, 1], 10);
  const mnBatch = randomBatch([MNV2_BATCH, 224, 224, 3], 10);

  const cnnWasm = await attempt('small CNN: wasm, 1 thread', () =>
    inProcessTraining('wasm', async () => smallCnn(), 'softmaxCrossEntropy', cnnBatch, SECONDS, 3),
  );
  const cnnParallel = await attempt('small CNN: wasm, data-parallel', () =>
    dataParallelTraining(async () => smallCnn(), 'softmaxCrossEntropy', cnnBatch, SECONDS, 3),
  );
  // The peers run right after the wasm measurements of the same model (the load drifts).
  const torchCnn = pytorch('cnn', WORKERS);
  const torchCnn1 = pytorch('cnn', 1);
  const small = randomBatch([CPU_BATCH, 28, 28, 1], 10);
  const cnnCpu = await attempt(`small CNN: tfjs cpu backend (batch ${CPU_BATCH}, 1 timed step)`, () =>
    inProcessTraining('cpu', async () => smallCnn(), 'softmaxCrossEntropy', small, 0, 1),
  );
  const mnInfer = await attempt('MobileNetV2: inference', () => inference(mobileNetV2, mnBatch.x, SECONDS));
  const mnSingle = randomBatch([MNV2_SINGLE_BATCH, 224, 224, 3], 10);
  const mnWasm = await attempt('MobileNetV2: fine-tuning, 1 thread', () =>
    inProcessTraining('wasm', mobileNetV2, 'categoricalCrossentropy', mnSingle, SECONDS, 2),
  );
  const mnParallel = await attempt('MobileNetV2: fine-tuning, data-parallel', () =>
    dataParallelTraining(mobileNetV2, 'categoricalCrossentropy', mnBatch, SECONDS, 2),
  );
  const torchMn = pytorch('mnv2', WORKERS);
  const torchMn1 = pytorch('mnv2', 1);
  const mnProfile = await attempt('MobileNetV2: per-kernel profile of one training step', () =>
    stepProfile(mobileNetV2, 'categoricalCrossentropy', mnSingle, 15),
  );
  const cnnProfile = await attempt('small CNN: per-kernel profile of one training step', () =>
    stepProfile(async () => smallCnn(), 'softmaxCrossEntropy', cnnBatch, 8),
  );
  type TorchOut = {
    status: string;
    torch?: string;
    smallCnn?: {
      trainSamplesPerSec: number;
      trainSamplesPerCpuSec: number;
      memoryFormat?: string;
      trainSamplesPerSecByFormat?: Record<string, number>;
    };
    mobilenetV2?: {
      trainImagesPerSec: number;
      trainImagesPerCpuSec: number;
      inferImagesPerSec: number;
      inferImagesPerCpuSec: number;
      memoryFormat?: string;
      inferMemoryFormat?: string;
      trainImagesPerSecByFormat?: Record<string, number>;
      inferImagesPerSecByFormat?: Record<string, number>;
    };
  };
  const tc = torchCnn as TorchOut;
  const tm = torchMn as TorchOut;
  const t = {
    status: tc.status === 'ok' && tm.status === 'ok' ? 'ok' : 'absent',
    smallCnn: tc.smallCnn,
    mobilenetV2: tm.mobilenetV2,
  };
  const t1 = { smallCnn: (torchCnn1 as TorchOut).smallCnn, mobilenetV2: (torchMn1 as TorchOut).mobilenetV2 };
  const torch = { torch: tc.torch };
  const best = (a: number, b: number) => Math.max(a, b);
  /** PyTorch's faster thread count (one thread sometimes beats two here). */
  const bestOf = (a?: number, b?: number) =>
    a === undefined || b === undefined ? undefined : Math.max(a, b);
  const byFormat = (m?: Record<string, number>) =>
    m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, round(v)])) : undefined;
  const result = {
    benchmark: 'ml-train',
    started,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      node: process.version,
      loadavgBefore: load0.map(round),
      loadavgAfter: os.loadavg().map(round),
    },
    tfjs: tf.version.tfjs,
    note: "samples/s from wall-clock time; the machine may be shared, see loadavg (also loadavg1Before per measurement). Each model's PyTorch peers (2 threads and 1 thread, each in both memory formats, the faster reported) ran right after its wasm measurements; *VsPytorchBest ratios compare with PyTorch's faster thread count. stepProfileWasm1Thread: tf.profile of one training step, per kernel.",
    smallCnn: {
      model: 'conv32-conv64-maxpool-dense128-dense10, 28x28x1, adam',
      batch: CNN_BATCH,
      wasm1Thread: cnnWasm,
      wasmDataParallel: cnnParallel,
      tfjsCpu: { ...cnnCpu, batch: CPU_BATCH },
      stepProfileWasm1Thread: cnnProfile,
      pytorch: t.smallCnn
        ? {
            samplesPerSec: round(t.smallCnn.trainSamplesPerSec),
            samplesPerCpuSec: round(t.smallCnn.trainSamplesPerCpuSec),
            threads: WORKERS,
            memoryFormat: t.smallCnn.memoryFormat,
            samplesPerSecByFormat: byFormat(t.smallCnn.trainSamplesPerSecByFormat),
          }
        : 'absent',
      pytorch1Thread: t1.smallCnn
        ? {
            samplesPerSec: round(t1.smallCnn.trainSamplesPerSec),
            samplesPerCpuSec: round(t1.smallCnn.trainSamplesPerCpuSec),
            threads: 1,
            memoryFormat: t1.smallCnn.memoryFormat,
            samplesPerSecByFormat: byFormat(t1.smallCnn.trainSamplesPerSecByFormat),
          }
        : 'absent',
      ratios: {
        wasm1ThreadVsPytorch1Thread: ratio(perSec(cnnWasm), t1.smallCnn?.trainSamplesPerSec),
        wasmBestVsTfjsCpu: ratio(best(perSec(cnnWasm), perSec(cnnParallel)), perSec(cnnCpu)),
        wasmBestVsPytorch: ratio(best(perSec(cnnWasm), perSec(cnnParallel)), t.smallCnn?.trainSamplesPerSec),
        wasmBestVsPytorchBest: ratio(
          best(perSec(cnnWasm), perSec(cnnParallel)),
          bestOf(t.smallCnn?.trainSamplesPerSec, t1.smallCnn?.trainSamplesPerSec),
        ),
        wasm1ThreadVsPytorchPerCpuSec: ratio(perCpuSec(cnnWasm), t.smallCnn?.trainSamplesPerCpuSec),
        dataParallelVsPytorchPerCpuSec: ratio(perCpuSec(cnnParallel), t.smallCnn?.trainSamplesPerCpuSec),
        dataParallelSpeedup: ratio(perSec(cnnParallel), perSec(cnnWasm)),
      },
    },
    mobilenetV2: {
      model:
        'nsfwjs MobileNetV2 backbone (zoo) + GAP/dropout/dense-10 head, 224x224x3, whole network trainable, adam',
      batch: MNV2_BATCH,
      inferenceWasm1Thread: mnInfer,
      fineTuneWasm1Thread: { ...mnWasm, batch: MNV2_SINGLE_BATCH },
      fineTuneWasmDataParallel: mnParallel,
      stepProfileWasm1Thread: mnProfile,
      pytorch: t.mobilenetV2
        ? {
            trainImagesPerSec: round(t.mobilenetV2.trainImagesPerSec),
            trainImagesPerCpuSec: round(t.mobilenetV2.trainImagesPerCpuSec),
            inferImagesPerSec: round(t.mobilenetV2.inferImagesPerSec),
            inferImagesPerCpuSec: round(t.mobilenetV2.inferImagesPerCpuSec),
            threads: WORKERS,
            memoryFormat: t.mobilenetV2.memoryFormat,
            inferMemoryFormat: t.mobilenetV2.inferMemoryFormat,
            trainImagesPerSecByFormat: byFormat(t.mobilenetV2.trainImagesPerSecByFormat),
            inferImagesPerSecByFormat: byFormat(t.mobilenetV2.inferImagesPerSecByFormat),
          }
        : 'absent',
      pytorch1Thread: t1.mobilenetV2
        ? {
            trainImagesPerSec: round(t1.mobilenetV2.trainImagesPerSec),
            trainImagesPerCpuSec: round(t1.mobilenetV2.trainImagesPerCpuSec),
            inferImagesPerSec: round(t1.mobilenetV2.inferImagesPerSec),
            inferImagesPerCpuSec: round(t1.mobilenetV2.inferImagesPerCpuSec),
            threads: 1,
            memoryFormat: t1.mobilenetV2.memoryFormat,
            inferMemoryFormat: t1.mobilenetV2.inferMemoryFormat,
            trainImagesPerSecByFormat: byFormat(t1.mobilenetV2.trainImagesPerSecByFormat),
            inferImagesPerSecByFormat: byFormat(t1.mobilenetV2.inferImagesPerSecByFormat),
          }
        : 'absent',
      ratios: {
        fineTune1ThreadVsPytorch1Thread: ratio(perSec(mnWasm), t1.mobilenetV2?.trainImagesPerSec),
        fineTuneDataParallelVsPytorch: ratio(perSec(mnParallel), t.mobilenetV2?.trainImagesPerSec),
        fineTuneBestVsPytorch: ratio(
          best(perSec(mnWasm), perSec(mnParallel)),
          t.mobilenetV2?.trainImagesPerSec,
        ),
        fineTuneBestVsPytorchBest: ratio(
          best(perSec(mnWasm), perSec(mnParallel)),
          bestOf(t.mobilenetV2?.trainImagesPerSec, t1.mobilenetV2?.trainImagesPerSec),
        ),
        fineTune1ThreadVsPytorchPerCpuSec: ratio(perCpuSec(mnWasm), t.mobilenetV2?.trainImagesPerCpuSec),
        fineTuneDataParallelVsPytorchPerCpuSec: ratio(
          perCpuSec(mnParallel),
          t.mobilenetV2?.trainImagesPerCpuSec,
        ),
        inferenceVsPytorch: ratio(perSec(mnInfer), t.mobilenetV2?.inferImagesPerSec),
        inferencePerCpuSecVsPytorch: ratio(perCpuSec(mnInfer), t.mobilenetV2?.inferImagesPerCpuSec),
        dataParallelSpeedup: ratio(perSec(mnParallel), perSec(mnWasm)),
      },
    },
    pytorch: {
      status: t.status,
      ...(t.status === 'ok' ? { torch: torch.torch } : {}),
    },
  };
  const out = path.join(__dirname, 'results', quick ? 'ml-train.quick.json' : 'ml-train.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${out}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
