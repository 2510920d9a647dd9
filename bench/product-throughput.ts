/**
 * The training throughput a TRAIN job reports, on the product path, against PyTorch on the same
 * architecture, batch and machine, in one run.
 *
 * Product path: the worker's own pipeline (`runImageClassification`, apps/worker/src/training) with the
 * worker's recipe (`buildRecipe`: Adam, cosine schedule, label smoothing, clipping, augmentation of
 * the mode, checkpoints every 100 steps, memory fitting), data streamed from image shards, backend
 * chosen as the worker chooses it (auto, native BLAS addon with ML_BLAS_CORE=auto), on 1 thread and
 * on TRAIN_THREADS=2 (ReplicaPool). The rate is the `samplesPerSec` of the job's training progress
 * (`TrainProgress.samplesPerSec`): "reported" is the epoch-end value a job shows (all steps, the first
 * one's memory probe and warm-up included); "steady" is the same clock from step 10 to the epoch end.
 * Peer: bench/pytorch/product_torch.py (Debian python3-torch), the same architecture, batch, loss
 * and optimizer, 2 threads and 1, after a warm-up step.
 *
 * Models: small_cnn_m at 64x64x3 batch 64, trained from scratch; MobileNetV2 (nsfwjs, pretrained)
 * fine-tuning at 128x128x3 batch 64 (the recipe's batch; the memory probe slices it), whole network trainable, backbone batch norm in inference mode.
 *
 * The machine is shared: besides wall-clock rates, both sides report samples per CPU-second of
 * their process (all threads), which moves much less with other processes' load. The product's is
 * taken between its first and last step progress events (every 10 steps: training only; every
 * scenario runs at least 21 steps). Between the same events the product also reports, per step, the
 * CPU-seconds of the training thread and of the busiest other thread (the replica on 2 threads) and
 * the share of the wall clock each was off the CPU (`threadsPerStep`): on 2 threads these show which
 * thread the other waits for. `machine.loadavg` and each run's `loadavg1Before` state the load.
 *
 * Usage: nice npx tsx bench/product-throughput.ts [--repeat N] [--only cnn|mnv2] [--quick]
 * Writes bench/results/product-throughput[.<only>][.quick].json.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { ImageShardIndex, IndexedSample } from '@modelsmith/datasets';
import {
  InMemoryArtifactStore,
  MemoryCheckpointStore,
  ModelZoo,
  initBackend,
  type TrainProgress,
} from '@modelsmith/ml';
import {
  runImageClassification,
  type PipelineNotice,
} from '../apps/worker/src/training/image-classification';
import { buildRecipe, type Recipe } from '../apps/worker/src/training/recipe';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '2' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const REPEAT = Number(values.repeat);
const QUICK = values.quick === true;
const CLASSES = 10;
const round = (x: number) => Math.round(x * 100) / 100;
const log = (msg: string) => process.stderr.write(`${msg}\n`);

interface Scenario {
  key: 'cnn' | 'mnv2';
  backbone: 'small_cnn_m' | 'mobilenet_v2';
  size: number;
  batch: number;
  trainSamples: number;
  torchSeconds: number;
}

const SCENARIOS: Scenario[] = [
  {
    key: 'cnn',
    backbone: 'small_cnn_m',
    size: 64,
    batch: 64,
    trainSamples: QUICK ? 1344 : 2560,
    torchSeconds: 10,
  },
  {
    key: 'mnv2',
    backbone: 'mobilenet_v2',
    size: 128,
    batch: 64,
    trainSamples: QUICK ? 1344 : 1984,
    torchSeconds: 20,
  },
];

/**
 * CPU-seconds of each thread of this process so far (Linux /proc/self/task), by thread id: the
 * training thread is the process id; a ReplicaPool's replica is a worker thread.
 */
function threadCpuSeconds(): Map<number, number> {
  const out = new Map<number, number>();
  const tick = 100; // USER_HZ on Linux
  try {
    for (const tid of fs.readdirSync('/proc/self/task')) {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / tick);
    }
  } catch {
    // not Linux, or a thread ended while listed: no per-thread figures
  }
  return out;
}

/** An in-memory shard set of random images: throughput does not depend on the pixels. */
function dataset(s: Scenario): { index: ImageShardIndex; shards: { get: () => Promise<Uint8Array> } } {
  const held = 64;
  const count = s.trainSamples + 2 * held;
  const rb = s.size * s.size * 3;
  const pixels = new Uint8Array(count * rb);
  let seed = 7;
  for (let i = 0; i < pixels.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    pixels[i] = seed >>> 24;
  }
  const samples: IndexedSample[] = Array.from({ length: count }, (_, i) => ({
    shard: 0,
    offset: i,
    label: i % CLASSES,
    split: i < s.trainSamples ? 'train' : i < s.trainSamples + held ? 'validation' : 'test',
    hash: String(i),
    path: `${i}.png`,
  }));
  const index: ImageShardIndex = {
    version: 1,
    kind: 'image',
    height: s.size,
    width: s.size,
    channels: 3,
    recordBytes: rb,
    labels: Array.from({ length: CLASSES }, (_, i) => `c${i}`),
    shards: [{ key: 's0', count }],
    samples,
  };
  return { index, shards: { get: async () => pixels } };
}

/** The worker's recipe for this dataset, one epoch of the phase that trains the whole network. */
function recipeFor(s: Scenario, zoo: ModelZoo): Recipe {
  const spec = zoo.get(s.backbone);
  const shape = {
    height: s.size,
    width: s.size,
    channels: 3 as const,
    numClasses: CLASSES,
    trainSamples: s.trainSamples,
  };
  const recipe = buildRecipe(spec, shape, 'balanced', { batchSize: s.batch });
  const whole = recipe.phases.filter((p) => p.backbone === 'trainable').slice(-1);
  return { ...recipe, phases: whole.map((p) => ({ ...p, epochs: 1, earlyStoppingPatience: undefined })) };
}

async function product(s: Scenario, threads: number) {
  const zoo = new ModelZoo();
  const { index, shards } = dataset(s);
  const recipe = recipeFor(s, zoo);
  const progress: TrainProgress[] = [];
  const stepMarks: Array<{ step: number; wall: number; cpu: number; threads: Map<number, number> }> = [];
  const notices: PipelineNotice[] = [];
  const loadavg1Before = round(os.loadavg()[0]);
  const t0 = performance.now();
  await runImageClassification(
    {
      index,
      shards,
      zoo,
      spec: zoo.get(s.backbone),
      recipe,
      checkpoints: new MemoryCheckpointStore(),
      writer: new InMemoryArtifactStore(),
      modelPrefix: 'bench/',
      fit: 'cover',
      threads,
    },
    {
      signal: new AbortController().signal,
      keepModelOnStop: () => false,
      onProgress: async (p) => {
        progress.push(p.train);
        if (p.train.kind === 'step') {
          const c = process.cpuUsage();
          stepMarks.push({
            step: p.train.step,
            wall: performance.now(),
            cpu: (c.user + c.system) / 1e6,
            threads: threadCpuSeconds(),
          });
        }
      },
      onEpoch: async () => {},
      onModel: async () => {},
      onNotice: async (n) => void notices.push(n),
    },
  );
  const end = progress.filter((p) => p.kind === 'epoch').at(-1);
  const at10 = progress.find((p) => p.kind === 'step' && p.step === 10);
  if (!end) throw new Error('no epoch-end progress');
  // Cumulative training seconds at an event = samples so far / the rate the clock reported then.
  const seconds = (p: TrainProgress, steps: number) => (steps * s.batch) / p.samplesPerSec;
  const steps = end.stepsPerEpoch ?? end.globalStep;
  const steady =
    at10 && steps > 10
      ? ((steps - 10) * s.batch) / (seconds(end, steps) - seconds(at10, 10))
      : end.samplesPerSec;
  const first = stepMarks[0];
  const last = stepMarks.at(-1);
  const between = first && last && last.step > first.step ? (last.step - first.step) * s.batch : 0;
  // Per thread, between the first and last step marks: CPU-seconds per step of the training thread
  // and of the busiest other thread (the replica on 2 threads; V8's helpers on 1), and the share of
  // the wall clock each spent off the CPU (waiting for the other, or for a core under load).
  let threadsPerStep: Record<string, number> | null = null;
  if (first && last && between) {
    const stepsBetween = last.step - first.step;
    const wallSec = (last.wall - first.wall) / 1000;
    const delta = [...last.threads].map(([tid, cpu]) => ({ tid, cpu: cpu - (first.threads.get(tid) ?? 0) }));
    const main = delta.find((d) => d.tid === process.pid)?.cpu ?? NaN;
    const other = delta.filter((d) => d.tid !== process.pid).sort((a, b) => b.cpu - a.cpu)[0]?.cpu ?? 0;
    threadsPerStep = {
      wallSec: round(wallSec / stepsBetween),
      mainCpuSec: round(main / stepsBetween),
      busiestOtherCpuSec: round(other / stepsBetween),
      mainOffCpuShare: round(1 - main / wallSec),
      busiestOtherOffCpuShare: round(1 - other / wallSec),
    };
  }
  return {
    threads,
    reportedSamplesPerSec: round(end.samplesPerSec),
    steadySamplesPerSec: round(steady),
    steadySamplesPerCpuSec: between && last && first ? round(between / (last.cpu - first.cpu)) : null,
    steadyWallSamplesPerSec:
      between && last && first ? round(between / ((last.wall - first.wall) / 1000)) : null,
    threadsPerStep,
    steps,
    batch: s.batch,
    augmentation: recipe.augmentation,
    threadNotice: notices.find((n) => n.kind === 'threads')?.message ?? null,
    memory: notices.filter((n) => n.kind === 'memory').map((n) => n.message),
    wallSeconds: round((performance.now() - t0) / 1000),
    loadavg1Before,
  };
}

function torch(s: Scenario, threads: number): Record<string, unknown> {
  const script = path.join(__dirname, 'pytorch', 'product_torch.py');
  const args = [script, '--model', s.backbone, '--size', String(s.size), '--batch', String(s.batch)];
  args.push('--threads', String(threads), '--seconds', String(QUICK ? s.torchSeconds / 2 : s.torchSeconds));
  const loadavg1Before = round(os.loadavg()[0]);
  const r = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', timeout: 600_000 });
  try {
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    if (typeof out.samplesPerSec === 'number') out.samplesPerSec = round(out.samplesPerSec);
    if (typeof out.samplesPerCpuSec === 'number') out.samplesPerCpuSec = round(out.samplesPerCpuSec);
    return { ...out, loadavg1Before };
  } catch {
    return { status: 'failed', stderr: r.stderr.slice(-500) };
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length
    ? s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
    : NaN;
};

async function main(): Promise<void> {
  const backend = await initBackend({ prefer: 'auto', nativeBlas: true, blasCore: 'auto', log });
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg().map(round) },
    backend,
    repeat: REPEAT,
  };
  for (const s of SCENARIOS) {
    if (values.only && values.only !== s.key) continue;
    const runs: Array<Record<string, unknown>> = [];
    for (let r = 0; r < REPEAT; r++) {
      for (const threads of [1, 2]) {
        log(`${s.key}: product path, ${threads} thread(s), repeat ${r + 1}`);
        const p = await product(s, threads);
        log(`  ${JSON.stringify(p)}`);
        runs.push({ side: 'product', repeat: r, ...p });
      }
      for (const threads of [2, 1]) {
        log(`${s.key}: PyTorch, ${threads} thread(s), repeat ${r + 1}`);
        const t = torch(s, threads);
        log(`  ${JSON.stringify(t)}`);
        runs.push({ side: 'pytorch', repeat: r, threads, ...t });
      }
    }
    const rate = (side: string, threads: number, field: string) =>
      median(
        runs
          .filter((x) => x.side === side && x.threads === threads && typeof x[field] === 'number')
          .map((x) => x[field] as number),
      );
    const perStep = (threads: number, field: string) =>
      median(
        runs
          .filter((x) => x.side === 'product' && x.threads === threads && x.threadsPerStep)
          .map((x) => (x.threadsPerStep as Record<string, number>)[field])
          .filter((v) => Number.isFinite(v)),
      );
    const torch2 = rate('pytorch', 2, 'samplesPerSec');
    const torch1 = rate('pytorch', 1, 'samplesPerSec');
    const best = (field: string) => Math.max(rate('product', 1, field), rate('product', 2, field));
    results[s.key] = {
      backbone: s.backbone,
      size: s.size,
      batch: s.batch,
      runs,
      median: {
        product1ThreadSteady: rate('product', 1, 'steadySamplesPerSec'),
        product2ThreadsSteady: rate('product', 2, 'steadySamplesPerSec'),
        product1ThreadReported: rate('product', 1, 'reportedSamplesPerSec'),
        product2ThreadsReported: rate('product', 2, 'reportedSamplesPerSec'),
        pytorch2Threads: torch2,
        pytorch1Thread: torch1,
        product1ThreadPerCpuSec: rate('product', 1, 'steadySamplesPerCpuSec'),
        product2ThreadsPerCpuSec: rate('product', 2, 'steadySamplesPerCpuSec'),
        pytorch2ThreadsPerCpuSec: rate('pytorch', 2, 'samplesPerCpuSec'),
        pytorch1ThreadPerCpuSec: rate('pytorch', 1, 'samplesPerCpuSec'),
        product1ThreadMainCpuSecPerStep: perStep(1, 'mainCpuSec'),
        product2ThreadsMainCpuSecPerStep: perStep(2, 'mainCpuSec'),
        product2ThreadsReplicaCpuSecPerStep: perStep(2, 'busiestOtherCpuSec'),
        product2ThreadsMainOffCpuShare: perStep(2, 'mainOffCpuShare'),
        product2ThreadsReplicaOffCpuShare: perStep(2, 'busiestOtherOffCpuShare'),
      },
      // Samples per CPU-second, 2 threads each side: how much work each does per unit of CPU.
      ratioPerCpuSec2Threads: round(
        rate('product', 2, 'steadySamplesPerCpuSec') / rate('pytorch', 2, 'samplesPerCpuSec'),
      ),
      // Product (the faster of 1 and 2 threads, i.e. what TRAIN_THREADS=auto gives on 2 cores) / PyTorch at 2 threads.
      ratioSteadyVsPytorch2Threads: round(best('steadySamplesPerSec') / torch2),
      ratioReportedVsPytorch2Threads: round(best('reportedSamplesPerSec') / torch2),
      ratioSteadyVsPytorchBest: round(best('steadySamplesPerSec') / Math.max(torch2, torch1)),
    };
    log(`${s.key}: ${JSON.stringify((results[s.key] as { median: unknown }).median)}`);
  }
  results.loadavgAtEnd = os.loadavg().map(round);
  const name = ['product-throughput', values.only, QUICK ? 'quick' : undefined].filter(Boolean).join('.');
  const out = path.join(__dirname, 'results', `${name}.json`);
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  log(`wrote ${out}`);
  process.exit(0);
}

void main();
