/**
 * The architecture search's Pareto front against the hand-designed CNNs (small_cnn_xs, _s, _m) at
 * matched measured latency, on real datasets (bench/search-common.ts).
 * 1. A `nas_cnn` search (runSearch with only that backbone: aging evolution over architectures, ASHA
 *    rungs of 1, 3 and 9 epochs, `--trials` trials, no deadline) gives its accuracy / latency / size
 *    front (`result.pareto`, as a job reports it).
 * 2. Each front architecture and each hand CNN is trained again with one fixed recipe (the backbone's
 *    default input, Adam lr 1e-3, batch 32, no weight decay or augmentation, `--epochs` epochs), so
 *    only the architecture differs; each is scored on validation, and once on test.
 * 3. Their batch-1 latency is measured in the same process, round-robin over `--rounds` rounds:
 *    wall-clock ms per call and process CPU ms per call (medians over the rounds).
 * For each hand CNN, the front model with the best validation accuracy among those whose CPU ms per
 * call is no higher is its match (on a loaded machine wall time measures the wait for a core).
 * `--remeasure` redoes step 3 for the models of bench/results/nas-vs-hand.json. Backend: wasm with the BLAS addon for training (the worker's default); latency on wasm.
 *
 * Usage: nice npx tsx bench/nas-vs-hand.ts [--datasets food] [--trials 12] [--epochs 9] [--rounds 5] [--remeasure]
 * Writes bench/results/nas-vs-hand.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {
  bestWithin,
  buildClassifier,
  evaluateModel,
  initBackend,
  InMemoryArtifactStore,
  loadExportedModel,
  measureLatency,
  MemoryCheckpointStore,
  ModelZoo,
  type ImageDataset,
} from '../libs/ml/src';
import { runImageClassification } from '../apps/worker/src/training/image-classification';
import { shardEpochs } from '../apps/worker/src/training/shard-batches';
import {
  inputSizeFor,
  NAS_BACKBONE,
  trialRecipe,
  type TrialConfig,
} from '../apps/worker/src/training/search/recipe-space';
import { runSearch } from '../apps/worker/src/training/search/search-runner';
import { cpuSeconds, indexOf, loadBenchDataset, memoryLedger, shapeOf } from './search-common';

const { values } = parseArgs({
  options: {
    datasets: { type: 'string', default: 'food' },
    trials: { type: 'string', default: '12' },
    epochs: { type: 'string', default: '9' },
    rounds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    remeasure: { type: 'boolean', default: false },
  },
});
const HAND = ['small_cnn_xs', 'small_cnn_s', 'small_cnn_m'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const hooks = {
  signal: new AbortController().signal,
  onProgress: () => Promise.resolve(),
  onEpoch: () => Promise.resolve(),
};

async function bench(name: string, ds: ImageDataset) {
  const index = indexOf(ds);
  const shape = shapeOf(ds, index);
  const zoo = new ModelZoo();
  const shards = { get: () => Promise.resolve(ds.images) };
  const store = new InMemoryArtifactStore();

  // 1. The architecture search, as a job with `backbone: nas_cnn` runs it.
  const ledger = memoryLedger();
  let cpu = process.cpuUsage();
  const s = await runSearch(
    {
      index,
      shards,
      zoo,
      shape,
      options: { backbone: NAS_BACKBONE },
      backbones: [NAS_BACKBONE],
      firstBackbone: NAS_BACKBONE,
      maxTrials: Number(values.trials),
      asha: { minResource: 1, maxResource: 9, eta: 3 },
      seed: Number(values.seed),
      fit: 'cover',
      nativeBlas: true,
      ledger,
      checkpoints: new MemoryCheckpointStore(),
      writer: store,
      reader: store,
      trialPrefix: (i) => `trials/${i}/`,
      modelPrefix: 'search/',
    },
    {
      ...hooks,
      isBudgetStop: () => false,
      onTrial: (x) => {
        if (x.status !== 'RUNNING') console.log(`${name} ${x.message}`);
        return Promise.resolve();
      },
      onBest: () => Promise.resolve(),
    },
  );
  const searchCpuSeconds = cpuSeconds(cpu);
  const front = s.best.pareto ?? [];
  console.log(`${name} front: ${JSON.stringify(front)}`);

  // 2. Front architectures and hand CNNs under one fixed recipe.
  const models = [
    ...[...new Set(front.map((f) => f.arch).filter((a): a is string => !!a))].map((arch) => ({
      kind: 'nas-front' as const,
      backbone: NAS_BACKBONE,
      arch,
    })),
    ...HAND.map((backbone) => ({ kind: 'hand' as const, backbone, arch: undefined })),
  ];
  const trained = [];
  for (const [i, m] of models.entries()) {
    const spec = zoo.get(m.backbone);
    const c: TrialConfig = {
      backbone: m.backbone,
      inputSize: inputSizeFor(spec, shape, 1),
      learningRate: 1e-3,
      weightDecay: 0,
      batchSize: 32,
      augmentation: 'none',
      regularizer: 'none',
      regularizerAlpha: 0.1,
      ...(m.arch ? { arch: m.arch } : {}),
    };
    const recipe = trialRecipe(spec, shape, c, Number(values.epochs), {});
    cpu = process.cpuUsage();
    const r = await runImageClassification(
      {
        index,
        shards,
        zoo,
        spec,
        recipe,
        checkpoints: new MemoryCheckpointStore(),
        writer: store,
        modelPrefix: `fixed/${i}/`,
        fit: 'cover',
        nativeBlas: true,
        evaluateOn: 'validation',
        interpret: false,
      },
      { ...hooks, keepModelOnStop: () => false, onModel: () => Promise.resolve() },
    );
    const loaded = await loadExportedModel(store, `fixed/${i}/`);
    const test = await evaluateModel(
      loaded.model,
      shardEpochs(shards, index, 'test', 32, spec.normalization, recipe.input, false),
      { classNames: index.labels },
    );
    const entry = {
      ...m,
      inputSize: c.inputSize,
      epochs: r.history.length,
      trainCpuSeconds: cpuSeconds(cpu),
      params: r.model.report.modelSize?.params ?? null,
      modelMB: r.model.report.modelSize ? r.model.report.modelSize.bytes / 2 ** 20 : null,
      validationAccuracy: r.model.report.accuracy,
      testAccuracy: test.accuracy,
      model: loaded.model,
    };
    console.log(
      `${name} ${m.backbone}${m.arch ? ` ${m.arch}` : ''}: val ${entry.validationAccuracy}, test ${entry.testAccuracy}`,
    );
    trained.push(entry);
  }

  // 3. Latency, same process, round-robin.
  const latency = measureAll(trained.map((t) => t.model));
  const rows = trained.map(({ model, ...t }, i) => {
    model.dispose();
    return { ...t, ...latency[i] };
  });
  const matched = match(rows);
  console.log(`${name} matched: ${JSON.stringify(matched)}`);
  return {
    dataset: name,
    images: ds.count,
    size: ds.height,
    classes: ds.classNames.length,
    search: {
      trials: ledger.rows.map((r) => ({
        index: r.index,
        status: r.status,
        arch: r.params.arch,
        rung: r.params.rung,
        epochs: r.params.epochs,
        validationAccuracy: r.metrics?.validationAccuracy ?? null,
        latencyMs: r.metrics?.latencyMs ?? null,
        macs: r.metrics?.macs ?? null,
      })),
      cpuSeconds: searchCpuSeconds,
      front,
    },
    fixedRecipe: { learningRate: 1e-3, batchSize: 32, epochs: Number(values.epochs) },
    models: rows,
    matched,
  };
}

/**
 * Batch-1 latency of each model, round-robin over `--rounds` rounds of 20 calls (after 3 warm-up
 * calls): the median over rounds of the wall-clock median ms per call, and of the process CPU ms per
 * call. On a loaded machine the wall time mostly measures waiting for a core; CPU time does not.
 */
function measureAll(models: tf.LayersModel[]) {
  const wall: number[][] = models.map(() => []);
  const cpu: number[][] = models.map(() => []);
  for (let round = 0; round < Number(values.rounds); round++)
    for (const [i, m] of models.entries()) {
      const c0 = process.cpuUsage();
      const l = measureLatency(m, { runs: 20, warmup: 3 });
      const c = process.cpuUsage(c0);
      wall[i].push(l.msPerBatchP50);
      cpu[i].push((c.user + c.system) / 1000 / (l.runs + 3));
    }
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return models.map((_, i) => ({
    latencyMs: r3(median(wall[i])),
    latencyCpuMs: r3(median(cpu[i])),
    latencyRoundsMs: wall[i].map(r3),
    latencyCpuRoundsMs: cpu[i].map(r3),
  }));
}

interface Row {
  kind: 'nas-front' | 'hand';
  backbone: string;
  arch?: string;
  validationAccuracy: number;
  testAccuracy: number;
  latencyMs: number;
  latencyCpuMs: number;
}

/** Each hand CNN against the front model of best validation accuracy no costlier in CPU ms per call. */
function match(rows: Row[]) {
  const front = rows.filter((r) => r.kind === 'nas-front');
  return rows
    .filter((r) => r.kind === 'hand')
    .map((h) => {
      const n = bestWithin(
        front,
        (r) => r.latencyCpuMs,
        (r) => r.validationAccuracy,
        h.latencyCpuMs,
      );
      return {
        hand: h.backbone,
        handLatencyCpuMs: h.latencyCpuMs,
        handValidationAccuracy: h.validationAccuracy,
        handTestAccuracy: h.testAccuracy,
        nas: n?.arch ?? null,
        nasLatencyCpuMs: n?.latencyCpuMs ?? null,
        nasValidationAccuracy: n?.validationAccuracy ?? null,
        nasTestAccuracy: n?.testAccuracy ?? null,
      };
    });
}

/**
 * --remeasure: the latency step again for the models of an earlier result (latency depends on the
 * architecture and input only, so untrained copies are measured), and the match recomputed.
 */
async function remeasure(file: string): Promise<void> {
  const out = JSON.parse(readFileSync(file, 'utf8')) as {
    results: Array<{
      classes: number;
      size: number;
      models: Array<Row & { inputSize: number }>;
      matched: unknown;
    }>;
    remeasured?: unknown;
  };
  const zoo = new ModelZoo();
  const load0 = loadavg()[0];
  for (const r of out.results) {
    const models = [];
    for (const m of r.models) {
      const channels = zoo.get(m.backbone).input.channels;
      const backbone = await zoo.load(m.backbone, {
        inputSize: { height: m.inputSize, width: m.inputSize, channels },
        seed: 1,
        ...(m.arch ? { arch: m.arch } : {}),
      });
      models.push(buildClassifier(backbone, { numClasses: r.classes, seed: 1 }).model);
    }
    const latency = measureAll(models);
    models.forEach((m) => m.dispose());
    r.models = r.models.map((m, i) => ({ ...m, ...latency[i] }));
    r.matched = match(r.models);
    console.log(JSON.stringify(r.matched));
  }
  out.remeasured = { at: new Date().toISOString(), loadavg1: { before: load0, after: loadavg()[0] } };
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
}

async function main(): Promise<void> {
  const info = await initBackend({ prefer: 'wasm', nativeBlas: true });
  if (values.remeasure) return remeasure(join(__dirname, 'results', 'nas-vs-hand.json'));
  const started = new Date().toISOString();
  const load0 = loadavg()[0];
  const results = [];
  for (const name of values.datasets.split(','))
    results.push(await bench(name, await loadBenchDataset(name)));
  const out = {
    bench: 'nas-vs-hand',
    started,
    seed: Number(values.seed),
    maxTrials: Number(values.trials),
    backend: `${info.name}${info.nativeBlas ? ' + BLAS addon' : ''}`,
    loadavg1: { before: load0, after: loadavg()[0] },
    results,
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'nas-vs-hand.json'), JSON.stringify(out, null, 2) + '\n');
}

void main();
