import * as tf from '@tensorflow/tfjs';
import type { ImageShardIndex, IndexedSample } from '@modelsmith/datasets';
import { PermanentJobError } from '@modelsmith/jobs';
import {
  FEATURE_HEAD_VIEWS,
  InMemoryArtifactStore,
  MemoryCheckpointStore,
  ModelZoo,
  ReplicaPool,
  initBackend,
  type BackboneSpec,
  type LoadedBackbone,
} from '@modelsmith/ml';
import {
  heldOutInput,
  runImageClassification,
  type PipelineHooks,
  type PipelineModel,
  type PipelineNotice,
} from './image-classification';
import type { NormLimeModelReport } from './normlime-report';
import type { Recipe } from './recipe';
import { FEATURE_HEAD_EPOCHS } from './frozen-head';

/**
 * A backbone layer that runs out of memory (as the wasm heap does) whenever the model trains with it
 * unfrozen, whatever the micro-batch: the fine-tune phase's failure, injected at the step boundary.
 */
class OutOfMemoryWhenTrainable extends tf.layers.Layer {
  static readonly className = 'OutOfMemoryWhenTrainableForTest';
  attempts: number[] = [];
  private scale!: tf.LayerVariable;
  constructor() {
    super({ name: 'oom_when_trainable' });
  }
  override build(): void {
    this.scale = this.addWeight('scale', [1], 'float32', tf.initializers.ones());
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs['training'] === true && this.trainable) {
      this.attempts.push(x.shape[0] ?? 0);
      throw new RangeError('Array buffer allocation failed');
    }
    return tf.mul(x, this.scale.read());
  }
}

const SIZE = 8;
const LABELS = ['a', 'b'];

/** 48 images (32 train, 8 validation, 8 test) of two classes (dark, bright) in one shard. */
function dataset(): { index: ImageShardIndex; shards: { get: (key: string) => Promise<Uint8Array> } } {
  const count = 48;
  const rb = SIZE * SIZE;
  const pixels = new Uint8Array(count * rb);
  const samples: IndexedSample[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    pixels.fill(label ? 200 + (i % 40) : 20 + (i % 40), i * rb, (i + 1) * rb);
    samples.push({
      shard: 0,
      offset: i,
      label,
      split: i < 32 ? 'train' : i < 40 ? 'validation' : 'test',
      hash: String(i),
      path: `${i}.png`,
    });
  }
  const index: ImageShardIndex = {
    version: 1,
    kind: 'image',
    height: SIZE,
    width: SIZE,
    channels: 1,
    recordBytes: rb,
    labels: LABELS,
    shards: [{ key: 's0', count }],
    samples,
  };
  return { index, shards: { get: async () => pixels } };
}

function backboneWith(layer: tf.layers.Layer, flatten = true): { zoo: ModelZoo; spec: BackboneSpec } {
  const spec: BackboneSpec = {
    ...new ModelZoo().get('small_cnn_xs'),
    id: 'test_pretrained',
    pretrained: true,
    input: { height: SIZE, width: SIZE, channels: 1 },
  };
  const load = async (): Promise<LoadedBackbone> => {
    const input = tf.input({ shape: [SIZE, SIZE, 1] });
    const x = layer.apply(input) as tf.SymbolicTensor;
    const features = flatten ? (tf.layers.flatten().apply(x) as tf.SymbolicTensor) : x;
    return { spec, input: spec.input, model: tf.model({ inputs: input, outputs: features }) };
  };
  return { zoo: { load } as unknown as ModelZoo, spec };
}

function recipe(phases: Recipe['phases']): Recipe {
  return {
    backboneId: 'test_pretrained',
    input: { height: SIZE, width: SIZE, channels: 1 },
    batchSize: 8,
    seed: 1,
    labelSmoothing: 0,
    augmentation: 'light',
    phases,
  };
}

const HEAD = { name: 'head', epochs: 1, learningRate: 1e-2, backbone: 'frozen', backboneLrScale: 0 } as const;
const FINETUNE = {
  name: 'finetune',
  epochs: 1,
  learningRate: 1e-3,
  backbone: 'trainable',
  backboneLrScale: 0.1,
} as const;

function hooks(models: PipelineModel[], notices: PipelineNotice[]): PipelineHooks {
  return {
    signal: new AbortController().signal,
    keepModelOnStop: () => false,
    onProgress: async () => {},
    onEpoch: async () => {},
    onModel: async (m) => void models.push(m),
    onNotice: async (n) => void notices.push(n),
  };
}

describe('image classification pipeline: a later phase that cannot fit in memory', () => {
  it('keeps the head phase model and says so when the fine-tune step does not fit even one sample', async () => {
    const layer = new OutOfMemoryWhenTrainable();
    const { zoo, spec } = backboneWith(layer);
    const { index, shards } = dataset();
    const models: PipelineModel[] = [];
    const notices: PipelineNotice[] = [];
    const input = {
      index,
      shards,
      zoo,
      spec,
      recipe: recipe([HEAD, FINETUNE]),
      checkpoints: new MemoryCheckpointStore(),
      writer: new InMemoryArtifactStore(),
      modelPrefix: 'm/',
      fit: 'cover' as const,
    };
    const result = await runImageClassification(input, hooks(models, notices));

    expect(result.status).toBe('phase-failed');
    expect(result.failedPhase).toMatchObject({ phase: 'finetune', code: 'TRAIN_OUT_OF_MEMORY' });
    expect(result.model.phase).toBe('head');
    expect(models.map((m) => m.phase)).toEqual(['head']);
    expect(result.model.report.numSamples).toBe(8);
    // The memory probe's single sample failed: no step was tried, let alone retried the same way.
    // (Halving on a step that fails is covered by libs/ml/src/train/memory.spec.ts.)
    expect(layer.attempts).toEqual([1]);
    const headProbe = notices.find((n) => n.kind === 'memory' && n.phase === 'head');
    expect(headProbe?.data).toMatchObject({ kind: 'probe', batch: 8, microBatch: 8 });
    const failed = notices.find((n) => n.kind === 'phase-failed');
    expect(failed?.message).toMatch(/finetune phase failed .*keeping the head phase's model/);
  });

  it('fails for good (no identical retries) when the first phase cannot fit and there is no model yet', async () => {
    const layer = new OutOfMemoryWhenTrainable();
    const { zoo, spec } = backboneWith(layer);
    const { index, shards } = dataset();
    const models: PipelineModel[] = [];
    const input = {
      index,
      shards,
      zoo,
      spec,
      recipe: recipe([FINETUNE]),
      checkpoints: new MemoryCheckpointStore(),
      writer: new InMemoryArtifactStore(),
      modelPrefix: 'm/',
      fit: 'cover' as const,
    };
    const error = await runImageClassification(input, hooks(models, [])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentJobError);
    expect(error).toMatchObject({ code: 'TRAIN_OUT_OF_MEMORY' });
    expect(models).toHaveLength(0);
  });
});

describe('image classification pipeline: transfer regularizer', () => {
  /**
   * A pretrained-flagged backbone with one seeded dense layer, the same weights at every load; with
   * `conv`, a seeded conv + BatchNormalization (inference mode, as pretrained) before it, and
   * `layer()` is the conv.
   */
  function denseBackbone(conv = false): {
    zoo: ModelZoo;
    spec: BackboneSpec;
    layer: () => tf.layers.Layer;
    initial: () => number[];
  } {
    const spec: BackboneSpec = {
      ...new ModelZoo().get('small_cnn_xs'),
      id: 'test_pretrained',
      pretrained: true,
      input: { height: SIZE, width: SIZE, channels: 1 },
    };
    let dense: tf.layers.Layer | undefined;
    let initial: number[] | undefined;
    const load = async (): Promise<LoadedBackbone> => {
      const input = tf.input({ shape: [SIZE, SIZE, 1] });
      let maps: tf.SymbolicTensor = input;
      let convLayer: tf.layers.Layer | undefined;
      if (conv) {
        convLayer = tf.layers.conv2d({
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          name: 'bb_conv',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
        });
        maps = convLayer.apply(maps) as tf.SymbolicTensor;
        maps = tf.layers.batchNormalization({ name: 'bb_bn' }).apply(maps) as tf.SymbolicTensor;
      }
      const flat = tf.layers.flatten().apply(maps) as tf.SymbolicTensor;
      dense = tf.layers.dense({
        units: 6,
        activation: 'relu',
        name: 'bb_dense',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      });
      const features = dense.apply(flat) as tf.SymbolicTensor;
      if (convLayer) dense = convLayer;
      initial = Array.from(dense.getWeights()[0].dataSync());
      return { spec, input: spec.input, model: tf.model({ inputs: input, outputs: features }) };
    };
    return { zoo: { load } as unknown as ModelZoo, spec, layer: () => dense!, initial: () => initial! };
  }

  /** Distance of the backbone kernel from its pretrained value after a fine-tune phase. */
  async function drift(
    regularizer: Recipe['regularizer'],
    threads = 1,
    notices: PipelineNotice[] = [],
    conv = false,
  ): Promise<number> {
    const { zoo, spec, layer, initial } = denseBackbone(conv);
    const { index, shards } = dataset();
    let end: number[] | undefined;
    const h = hooks([], notices);
    const phase = { ...FINETUNE, epochs: 4, learningRate: 0.05, backboneLrScale: 1 };
    const input = {
      index,
      shards,
      zoo,
      spec,
      recipe: { ...recipe([phase]), ...(regularizer ? { regularizer } : {}) },
      checkpoints: new MemoryCheckpointStore(),
      writer: new InMemoryArtifactStore(),
      modelPrefix: 'm/',
      fit: 'cover' as const,
      threads,
    };
    const result = await runImageClassification(input, {
      ...h,
      onModel: async () => {
        end = Array.from(layer().getWeights()[0].dataSync());
      },
    });
    expect(result.status).toBe('completed');
    const a = initial();
    return Math.sqrt(end!.reduce((s, v, i) => s + (v - a[i]) ** 2, 0));
  }

  it("the recipe's L2-SP reaches training: the backbone stays nearer its pretrained weights than without", async () => {
    const free = await drift(undefined);
    const pulled = await drift({ type: 'l2sp', alpha: 10, beta: 0.01, conflictRule: false });
    expect(free).toBeGreaterThan(0.05);
    expect(pulled).toBeLessThan(free * 0.8);
  });

  it('on two threads (TRAIN_THREADS=2, wasm) trains on a replica thread too, and L2-SP still holds the backbone', async () => {
    await initBackend({ prefer: 'wasm' });
    const notices: PipelineNotice[] = [];
    const free = await drift(undefined, 2, notices);
    const pulled = await drift({ type: 'l2sp', alpha: 10, beta: 0.01, conflictRule: false }, 2);
    expect(notices.find((n) => n.kind === 'threads')?.message).toMatch(/^training on 2 threads/);
    expect(free).toBeGreaterThan(0.05);
    expect(pulled).toBeLessThan(free * 0.8);
  });

  it("the recipe's DELTA reaches training: the conv feeding its feature map stays nearer its pretrained weights", async () => {
    // Measured: free 1.03, held 0.055.
    const free = await drift(undefined, 1, [], true);
    const held = await drift({ type: 'delta', alpha: 100, beta: 0.01 }, 1, [], true);
    expect(free).toBeGreaterThan(0.05);
    expect(held).toBeLessThan(free * 0.3);
  });

  it('a regularizer that runs its own forward pass (DELTA) trains on one thread, and says so', async () => {
    await initBackend({ prefer: 'wasm' });
    const notices: PipelineNotice[] = [];
    await drift({ type: 'delta', alpha: 0.01, beta: 0.01 }, 2, notices, true);
    expect(notices.find((n) => n.kind === 'threads')?.message).toMatch(/^training on one thread: the delta/);
  });

  it("the recipe's BSS and RIFLE reach training: each ends the fine-tune phase elsewhere than no regularizer", async () => {
    const free = await drift(undefined);
    // Strong enough to move this tiny backbone in 4 epochs (at eta 10 the change is ~4e-5).
    const withBss = await drift({ type: 'bss', eta: 1000, k: 6 });
    const withRifle = await drift({ type: 'rifle', times: 3 });
    expect(Math.abs(withBss - free)).toBeGreaterThan(1e-4);
    expect(Math.abs(withRifle - free)).toBeGreaterThan(1e-4);
  });
});

describe('image classification pipeline: NormLIME in the final report', () => {
  it('explains the validation images of the final model and puts per-class importance in its report', async () => {
    const { zoo, spec } = backboneWith(new OutOfMemoryWhenTrainable());
    const { index, shards } = dataset();
    const models: PipelineModel[] = [];
    const input = {
      index,
      shards,
      zoo,
      spec,
      recipe: recipe([HEAD]),
      checkpoints: new MemoryCheckpointStore(),
      writer: new InMemoryArtifactStore(),
      modelPrefix: 'm/',
      fit: 'cover' as const,
    };
    const result = await runImageClassification(input, hooks(models, []));
    expect(result.status).toBe('completed');
    const normLime = (result.model.report as unknown as { normLime: NormLimeModelReport }).normLime;
    expect(normLime).toMatchObject({
      method: 'normlime',
      split: 'validation',
      images: 8,
      samplesPerImage: 64,
    });
    expect(normLime.classes.map((c) => c.label)).toEqual(LABELS);
    expect(normLime.classes.reduce((s, c) => s + c.explanations, 0)).toBe(8);
    for (const c of normLime.classes) {
      expect(c.importance).toHaveLength(normLime.grid.rows * normLime.grid.cols);
      if (c.explanations > 0) expect(c.importance.some((v) => v > 0)).toBe(true);
    }
    // A pretrained backbone: the final model carries held-out label scores of every train sample
    // (their quality: held-out-scores.spec.ts).
    const held = result.model.heldOut;
    expect(result.model.final).toBe(true);
    expect(held?.margin).toHaveLength(32);
    expect(Array.from(held?.margin ?? []).every(Number.isFinite)).toBe(true);
  });
});

/** A backbone layer that counts the images passed through it (in any mode). */
class CountingLayer extends tf.layers.Layer {
  static readonly className = 'CountingLayerForTest';
  images = 0;
  private scale!: tf.LayerVariable;
  constructor() {
    super({ name: 'counting' });
  }
  override build(): void {
    this.scale = this.addWeight('scale', [1], 'float32', tf.initializers.ones());
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    this.images += x.shape[0] ?? 0;
    return tf.mul(x, this.scale.read());
  }
}

describe('image classification pipeline: a head on cached frozen features (headOnFeatures)', () => {
  it('passes the train images through the backbone once per view and the validation images once, trains the head for many epochs, then fine-tunes', async () => {
    const layer = new CountingLayer();
    const { zoo, spec } = backboneWith(layer);
    const { index, shards } = dataset();
    const models: PipelineModel[] = [];
    const notices: PipelineNotice[] = [];
    let imagesWhenHeadDone: number | undefined;
    const h = hooks(models, notices);
    const input = {
      index,
      shards,
      zoo,
      spec,
      recipe: { ...recipe([HEAD, FINETUNE]), headOnFeatures: true },
      checkpoints: new MemoryCheckpointStore(),
      writer: new InMemoryArtifactStore(),
      modelPrefix: 'm/',
      fit: 'cover' as const,
      interpret: false,
    };
    const result = await runImageClassification(input, {
      ...h,
      onEpoch: async (phase) => {
        if (phase === 'head') imagesWhenHeadDone ??= layer.images;
      },
    });
    expect(result.status).toBe('completed');
    // One pass over the 32 train images per view (image and mirror: the dataset is grayscale, so no
    // gray view) and one over the 8 validation images, whatever the number of head epochs.
    expect(FEATURE_HEAD_VIEWS).toContain('gray');
    expect(imagesWhenHeadDone).toBe(32 * 2 + 8);
    const headEpochs = result.history.filter((e) => e.phase === 'head').length;
    expect(headEpochs).toBeGreaterThan(HEAD.epochs);
    // The head on the features separates the dark and bright images (held-out test split).
    expect(models.map((m) => m.phase)).toEqual(['head', 'finetune']);
    expect(models[0].report.accuracy).toBe(1);
    // The fine-tune phase still trains through the backbone with the memory probe.
    expect(notices.find((n) => n.kind === 'memory' && n.phase === 'finetune')?.data).toMatchObject({
      kind: 'probe',
    });
    expect(notices.some((n) => n.kind === 'memory' && n.phase === 'head')).toBe(false);
  });

  it('a head-only first trial (headImagesOnly) passes each train image through the backbone once', async () => {
    let epochCalls = 0;
    const batches: Array<{ phase: string; epochs: number[] }> = [];
    const layer = new CountingLayer();
    const { zoo, spec } = backboneWith(layer);
    const { index, shards } = dataset();
    const models: PipelineModel[] = [];
    let imagesWhenHeadDone: number | undefined;
    const writer = new InMemoryArtifactStore();
    const result = await runImageClassification(
      {
        index,
        shards,
        zoo,
        spec,
        recipe: { ...recipe([HEAD]), headOnFeatures: true, headImagesOnly: true },
        checkpoints: new MemoryCheckpointStore(),
        writer,
        modelPrefix: 'm/',
        fit: 'cover' as const,
        interpret: false,
        evaluateOn: 'validation',
      },
      {
        ...hooks(models, []),
        onEpoch: async () => void epochCalls++,
        // The phase's epochs in one call (a search records them in one write).
        onEpochs: async (phase, logs) => {
          imagesWhenHeadDone ??= layer.images;
          batches.push({ phase, epochs: logs.map((l) => l.epoch) });
        },
      },
    );
    expect(result.status).toBe('completed');
    expect(epochCalls).toBe(0);
    expect(batches).toEqual([{ phase: 'head', epochs: result.history.map((h) => h.epoch) }]);
    expect(batches[0].epochs.length).toBeGreaterThan(1);
    // 32 train images once, 8 validation images once (the evaluation passes come after).
    expect(imagesWhenHeadDone).toBe(32 + 8);
    // The evaluation takes the image's own validation predictions from the cached vectors: one more
    // pass over the 8 validation images (their mirror images), then the latency's 2 + 10 single images.
    expect(layer.images - imagesWhenHeadDone!).toBe(8 + 12);
    // Where the time went, stage by stage.
    expect(Object.keys(result.stages ?? {})).toEqual(['load', 'features', 'head', 'evaluate', 'export']);
    // Rounded to 10 ms: the fixture's passes may round to 0 on a fast machine.
    expect(result.stages!.features.seconds).toBeGreaterThanOrEqual(0);
    expect(models[0].report.accuracy).toBe(1);
    // Test-time averaging was tried on validation (grayscale: the mirror view only). Each image is one
    // flat gray level, its own mirror image: the averaged predictions equal the plain ones, a tie,
    // and a tie keeps the plain model (no `tta` in its manifest).
    const choice = models[0].tta!;
    expect(choice.candidates).toEqual(['mirror']);
    expect(choice.averaged.accuracy).toBe(choice.plain.accuracy);
    expect(choice.averaged.logLoss).toBeCloseTo(choice.plain.logLoss, 6);
    expect(choice.views).toEqual([]);
    expect(models[0].manifest.tta).toBeUndefined();
    expect(models[0].report.accuracy).toBe(choice.plain.accuracy);
    expect(models[0].report.logLoss).toBeCloseTo(choice.plain.logLoss, 6);
  });

  it('on two threads, the head-only trial shares its feature passes with the replica thread (same model as on one)', async () => {
    await initBackend({ prefer: 'wasm' });
    // Standard layers only, so that the replica thread can load the model.
    const standard = () =>
      backboneWith(
        tf.layers.conv2d({
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
        }),
        false,
      );
    // The pool starts while this thread begins the feature pass (it joins when ready): on these tiny
    // passes the test has the shard reads wait for it, so that every pass runs with it.
    let poolReady: () => void = () => undefined;
    const created = new Promise<void>((r) => (poolReady = r));
    const create = ReplicaPool.create.bind(ReplicaPool);
    const createSpy = jest.spyOn(ReplicaPool, 'create').mockImplementation(async (m, o) => {
      const pool = await create(m, o);
      poolReady();
      return pool;
    });
    const run = async (threads: number) => {
      const { zoo, spec } = standard();
      const { index, shards: plain } = dataset();
      const shards = {
        get: async (key: string) => {
          if (threads > 1) await created;
          return plain.get(key);
        },
      };
      const models: PipelineModel[] = [];
      const result = await runImageClassification(
        {
          index,
          shards,
          zoo,
          spec,
          recipe: { ...recipe([HEAD]), headOnFeatures: true, headImagesOnly: true },
          checkpoints: new MemoryCheckpointStore(),
          writer: new InMemoryArtifactStore(),
          modelPrefix: 'm/',
          fit: 'cover' as const,
          interpret: false,
          evaluateOn: 'validation',
          threads,
        },
        hooks(models, []),
      );
      return { result, model: models[0] };
    };
    const features = jest.spyOn(ReplicaPool.prototype, 'features');
    try {
      const one = await run(1);
      expect(features).not.toHaveBeenCalled();
      const two = await run(2);
      // Batches of the train, validation and mirrored validation passes went to the replica.
      expect(features.mock.calls.length).toBeGreaterThan(0);
      expect(two.result.status).toBe('completed');
      expect(two.model.report.accuracy).toBe(one.model.report.accuracy);
      expect(two.model.report.logLoss).toBeCloseTo(one.model.report.logLoss, 5);
    } finally {
      features.mockRestore();
      createSpy.mockRestore();
    }
  });
});

describe('image classification pipeline: a feature head for a fixed number of epochs', () => {
  it('featureHeadEpochs trains the head on the cached features for exactly that many epochs (no early stopping), headDropout sets its dropout', async () => {
    const run = async (over: Partial<Recipe>) => {
      const { zoo, spec } = backboneWith(new CountingLayer());
      const { index, shards } = dataset();
      const models: PipelineModel[] = [];
      const writer = new InMemoryArtifactStore();
      const result = await runImageClassification(
        {
          index,
          shards,
          zoo,
          spec,
          // A learning rate far too high: the validation loss jumps about, so early stopping stops.
          recipe: {
            ...recipe([{ ...HEAD, learningRate: 3 }]),
            headOnFeatures: true,
            headImagesOnly: true,
            ...over,
          },
          checkpoints: new MemoryCheckpointStore(),
          writer,
          modelPrefix: 'm/',
          fit: 'cover' as const,
          interpret: false,
          evaluateOn: 'validation',
        },
        hooks(models, []),
      );
      // The exported topology's dropout layer.
      const files = [...(writer as unknown as { objects: Map<string, { data: Uint8Array }> }).objects];
      const topology = new TextDecoder().decode(files.find(([k]) => k.endsWith('model.json'))![1].data);
      const dropout = Number(/"class_name":\s*"Dropout".*?"rate":\s*([0-9.]+)/s.exec(topology)?.[1]);
      return { epochs: result.history.filter((e) => e.phase === 'head').length, result, dropout };
    };
    // Early stopping (the default) stops before FEATURE_HEAD_EPOCHS; a fixed count runs them all.
    const early = await run({});
    expect(early.epochs).toBeLessThan(FEATURE_HEAD_EPOCHS);
    const fixed = await run({ featureHeadEpochs: FEATURE_HEAD_EPOCHS, headDropout: 0 });
    expect(fixed.epochs).toBe(FEATURE_HEAD_EPOCHS);
    expect(fixed.result.status).toBe('completed');
    expect(early.dropout).toBe(0.2);
    expect(fixed.dropout).toBe(0);
  });
});

describe('heldOutInput', () => {
  const resizable = { id: 'mobilenet_v2', resizable: { minSize: 32, maxSize: 512, channels: [3 as const] } };
  it('resizes MobileNetV2 inputs under 128 px up for the held-out label scores, aspect kept, within range', () => {
    expect(heldOutInput(resizable, { height: 64, width: 64, channels: 3 })).toEqual({
      height: 128,
      width: 128,
      channels: 3,
    });
    expect(heldOutInput(resizable, { height: 64, width: 96, channels: 3 })).toEqual({
      height: 128,
      width: 192,
      channels: 3,
    });
    expect(
      heldOutInput(
        { ...resizable, resizable: { ...resizable.resizable, maxSize: 150 } },
        { height: 64, width: 96, channels: 3 },
      ),
    ).toEqual({
      height: 128,
      width: 150,
      channels: 3,
    });
    const large = { height: 128, width: 160, channels: 3 as const };
    expect(heldOutInput(resizable, large)).toBe(large);
    const fixed = { height: 64, width: 64, channels: 3 as const };
    expect(heldOutInput({ id: 'mobilenet_v2' }, fixed)).toBe(fixed);
    // Only the backbones whose multi-layer features the pass uses (where it was measured).
    expect(heldOutInput({ ...resizable, id: 'inception_v3' }, fixed)).toBe(fixed);
  });
});
