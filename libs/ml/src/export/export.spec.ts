import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildClassifier } from '../zoo/classifier';
import { ModelZoo } from '../zoo/model-zoo';
import { ModelArtifactError } from './artifact-errors';
import type { ExportManifest } from './export-manifest';
import { exportModel, type ExportModelInfo } from './export-model';
import { FileSystemArtifactStore } from './fs-artifact-store';
import { loadExportedModel } from './load-exported-model';
import { InMemoryArtifactStore } from './memory-artifact-store';
import { testTimeAveragingOf } from '../preprocess/image-views';

const PREFIX = 'tenants/t1/models/m1/v1';
const CLASSES = ['shirt', 'shoe', 'bag', 'coat'];

function info(overrides: Partial<ExportModelInfo> = {}): ExportModelInfo {
  return {
    task: 'image-classification',
    input: { kind: 'image', height: 28, width: 28, channels: 1, fit: 'fill' },
    normalization: { kind: 'unit' },
    classNames: CLASSES,
    backboneId: 'small_cnn_s',
    metrics: { accuracy: 0.91, macroF1: 0.9 },
    createdAt: new Date('2026-11-28T12:00:00.000Z'),
    ...overrides,
  };
}

async function trainedClassifier(seed = 1): Promise<tf.LayersModel> {
  const backbone = await new ModelZoo().load('small_cnn_s', { seed });
  return buildClassifier(backbone, { numClasses: CLASSES.length, seed }).model;
}

async function bitwiseEqual(a: tf.Tensor, b: tf.Tensor): Promise<boolean> {
  const [x, y] = [await a.data(), await b.data()];
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(
    Buffer.from(y.buffer, y.byteOffset, y.byteLength),
  );
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('exportModel / loadExportedModel', () => {
  const x = tf.randomUniform([5, 28, 28, 1], 0, 1, 'float32', 21);

  it('round-trips a model through a store with bitwise-identical predictions and a valid manifest', async () => {
    const model = await trainedClassifier();
    const store = new InMemoryArtifactStore();
    const manifest = await exportModel(model, store, PREFIX, info());
    expect(store.keys()).toEqual([
      `${PREFIX}/group1-shard1of1.bin`,
      `${PREFIX}/manifest.json`,
      `${PREFIX}/model.json`,
    ]);
    expect(store.contentType(`${PREFIX}/manifest.json`)).toBe('application/json');
    expect(manifest).toMatchObject({
      format: 'modelsmith-model',
      formatVersion: 1,
      classNames: CLASSES,
      backboneId: 'small_cnn_s',
      createdAt: '2026-11-28T12:00:00.000Z',
      framework: { name: 'tensorflow.js', version: tf.version.tfjs },
    });
    expect(manifest.files.map((f) => f.path)).toEqual(['model.json', 'group1-shard1of1.bin']);
    expect(manifest.files[1].size).toBe(model.countParams() * 4);

    const loaded = await loadExportedModel(store, PREFIX);
    expect(loaded.manifest).toEqual(manifest);
    expect(await bitwiseEqual(model.predict(x) as tf.Tensor, loaded.model.predict(x) as tf.Tensor)).toBe(
      true,
    );
  });

  it('splits weights into several shards and still reloads identically', async () => {
    const model = await trainedClassifier(2);
    const store = new InMemoryArtifactStore();
    const manifest = await exportModel(model, store, PREFIX, info({ shardBytes: 100_000 }));
    const shards = manifest.files.filter((f) => f.path !== 'model.json');
    expect(shards.length).toBe(Math.ceil((model.countParams() * 4) / 100_000));
    expect(shards.length).toBeGreaterThan(1);
    const loaded = await loadExportedModel(store, PREFIX);
    expect(await bitwiseEqual(model.predict(x) as tf.Tensor, loaded.model.predict(x) as tf.Tensor)).toBe(
      true,
    );
  });

  it('writes files that plain @tensorflow/tfjs loads without any Modelsmith code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelsmith-export-'));
    try {
      const model = await trainedClassifier(3);
      await exportModel(model, new FileSystemArtifactStore(dir), 'm1', info({ shardBytes: 200_000 }));
      // What a user does with a downloaded model: read model.json, concatenate the shards in order.
      const modelJson = JSON.parse(await readFile(join(dir, 'm1', 'model.json'), 'utf8')) as tf.io.ModelJSON;
      const group = modelJson.weightsManifest[0];
      const shards = await Promise.all(group.paths.map((p) => readFile(join(dir, 'm1', p))));
      const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
      const plain = await tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: group.weights, weightData }),
      );
      expect(await bitwiseEqual(model.predict(x) as tf.Tensor, plain.predict(x) as tf.Tensor)).toBe(true);

      const loaded = await loadExportedModel(new FileSystemArtifactStore(dir), 'm1');
      expect(await bitwiseEqual(model.predict(x) as tf.Tensor, loaded.model.predict(x) as tf.Tensor)).toBe(
        true,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exports a MobileNetV2 transfer model (quantized source weights become float32) and reloads it identically', async () => {
    const backbone = await new ModelZoo().load('mobilenet_v2', { inputSize: { height: 64, width: 64 } });
    const model = buildClassifier(backbone, { numClasses: 3 }).model;
    const store = new InMemoryArtifactStore();
    await exportModel(
      model,
      store,
      PREFIX,
      info({
        input: { kind: 'image', height: 64, width: 64, channels: 3, fit: 'cover' },
        classNames: ['a', 'b', 'c'],
        backboneId: 'mobilenet_v2',
      }),
    );
    const loaded = await loadExportedModel(store, PREFIX);
    const images = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 4);
    expect(
      await bitwiseEqual(model.predict(images) as tf.Tensor, loaded.model.predict(images) as tf.Tensor),
    ).toBe(true);
    model.dispose();
    loaded.model.dispose();
  }, 120_000);

  it('exports and reloads a tabular classifier', async () => {
    const input = tf.input({ shape: [4] });
    const hidden = tf.layers
      .dense({ units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })
      .apply(input);
    const output = tf.layers
      .dense({
        units: 3,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      })
      .apply(hidden);
    const model = tf.model({ inputs: input, outputs: output as tf.SymbolicTensor });
    const store = new InMemoryArtifactStore();
    const tabular = {
      task: 'tabular-classification' as const,
      input: {
        kind: 'tabular' as const,
        features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
      },
      normalization: null,
      classNames: ['setosa', 'versicolor', 'virginica'],
      backboneId: null,
    };
    await exportModel(model, store, PREFIX, info(tabular));
    const loaded = await loadExportedModel(store, PREFIX);
    expect(loaded.manifest.input).toEqual(tabular.input);
    const rows = tf.tensor2d([
      [5.1, 3.5, 1.4, 0.2],
      [6.7, 3.0, 5.2, 2.3],
    ]);
    expect(
      await bitwiseEqual(model.predict(rows) as tf.Tensor, loaded.model.predict(rows) as tf.Tensor),
    ).toBe(true);
    const untouched = new InMemoryArtifactStore();
    const mixed = await exportModel(
      model,
      untouched,
      PREFIX,
      info({ ...tabular, task: 'image-classification' }),
    ).catch((e: unknown) => e);
    expect(mixed).toMatchObject({ code: 'ARTIFACT_MANIFEST_INVALID' });
    expect(untouched.keys()).toEqual([]);
  });

  it('declares test-time views in the manifest when given; a manifest without them (every older one) loads with none', async () => {
    const model = await trainedClassifier();
    const store = new InMemoryArtifactStore();
    const withViews = await exportModel(model, store, PREFIX, info({ tta: ['mirror', 'gray'] }));
    expect(withViews.tta).toEqual(['mirror', 'gray']);
    expect((await loadExportedModel(store, PREFIX)).manifest.tta).toEqual(['mirror', 'gray']);
    // The manifest as written before the field existed: no `tta` key at all.
    const plain = await exportModel(model, store, `${PREFIX}-plain`, info());
    const raw = JSON.parse(
      Buffer.from(await store.get(`${PREFIX}-plain/manifest.json`)).toString(),
    ) as Record<string, unknown>;
    expect('tta' in raw).toBe(false);
    expect(plain.tta).toBeUndefined();
    const loaded = await loadExportedModel(store, `${PREFIX}-plain`);
    expect(loaded.manifest.tta).toBeUndefined();
    expect(testTimeAveragingOf(loaded.manifest)).toBeUndefined();
    // A view the platform does not know, or one listed twice, is refused.
    for (const tta of [['sketch'], ['mirror', 'mirror']] as unknown as ExportManifest['tta'][])
      await expect(
        exportModel(model, new InMemoryArtifactStore(), PREFIX, info({ tta })),
      ).rejects.toMatchObject({
        code: 'ARTIFACT_MANIFEST_INVALID',
      });
  });

  it('refuses to export a model whose outputs do not match the class names', async () => {
    const model = await trainedClassifier();
    const store = new InMemoryArtifactStore();
    const error = await exportModel(model, store, PREFIX, info({ classNames: ['a', 'b'] })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ARTIFACT_MODEL_MISMATCH' });
    const duplicate = await exportModel(
      model,
      store,
      PREFIX,
      info({ classNames: ['a', 'b', 'c', 'a'] }),
    ).catch((e: unknown) => e);
    expect(duplicate).toMatchObject({ code: 'ARTIFACT_MANIFEST_INVALID' });
    expect(store.keys()).toEqual([]);
    const badInput = await exportModel(
      model,
      new InMemoryArtifactStore(),
      PREFIX,
      info({ input: { kind: 'image', height: 32, width: 32, channels: 1, fit: 'fill' } }),
    ).catch((e: unknown) => e);
    expect(badInput).toMatchObject({ code: 'ARTIFACT_MODEL_MISMATCH' });
  });

  describe('tampered exports', () => {
    type Tamper = (store: InMemoryArtifactStore) => Promise<void>;
    const key = (path: string): string => `${PREFIX}/${path}`;
    const editManifest =
      (edit: (manifest: ExportManifest & Record<string, unknown>) => void): Tamper =>
      async (store) => {
        const manifest = JSON.parse(
          new TextDecoder().decode(await store.get(key('manifest.json'))),
        ) as ExportManifest & Record<string, unknown>;
        edit(manifest);
        await store.put(key('manifest.json'), new TextEncoder().encode(JSON.stringify(manifest)));
      };
    const flipByte =
      (path: string, index: number): Tamper =>
      async (store) => {
        const data = await store.get(key(path));
        data[index] = data[index] ^ 0xff;
        await store.put(key(path), data);
      };

    const cases: Array<[string, Tamper, string]> = [
      ['a flipped weight byte', flipByte('group1-shard1of1.bin', 1000), 'ARTIFACT_INTEGRITY_MISMATCH'],
      ['an edited model.json', flipByte('model.json', 10), 'ARTIFACT_INTEGRITY_MISMATCH'],
      [
        'a parent-directory file path',
        editManifest((m) => (m.files[1].path = '../m2/group1-shard1of1.bin')),
        'ARTIFACT_PATH_UNSAFE',
      ],
      [
        'an absolute file path',
        editManifest((m) => m.files.push({ path: '/etc/passwd', size: 1, sha256: 'a'.repeat(64) })),
        'ARTIFACT_PATH_UNSAFE',
      ],
      [
        'a file declared bigger than the cap',
        editManifest((m) => (m.files[1].size = 2 ** 40)),
        'ARTIFACT_TOO_LARGE',
      ],
      ['a wrong declared size', editManifest((m) => (m.files[1].size -= 1)), 'ARTIFACT_INTEGRITY_MISMATCH'],
      [
        'a file the model does not use',
        editManifest((m) => m.files.push({ path: 'extra.bin', size: 1, sha256: 'a'.repeat(64) })),
        'ARTIFACT_MANIFEST_INVALID',
      ],
      [
        'a shard missing from the list',
        editManifest((m) => m.files.splice(1, 1, { path: 'other.bin', size: 1, sha256: 'b'.repeat(64) })),
        'ARTIFACT_MANIFEST_INVALID',
      ],
      [
        'an unknown format version',
        editManifest((m) => (m.formatVersion = 2 as 1)),
        'ARTIFACT_MANIFEST_INVALID',
      ],
      [
        'missing class names',
        editManifest((m) => Reflect.deleteProperty(m, 'classNames')),
        'ARTIFACT_MANIFEST_INVALID',
      ],
      [
        'duplicate class names',
        editManifest((m) => (m.classNames = ['a', 'a', 'b', 'c'])),
        'ARTIFACT_MANIFEST_INVALID',
      ],
      [
        'a class count that differs from the model',
        editManifest((m) => (m.classNames = ['a', 'b', 'c'])),
        'ARTIFACT_MODEL_MISMATCH',
      ],
      [
        'an input size that differs from the model',
        editManifest((m) => (m.input = { kind: 'image', height: 32, width: 32, channels: 1, fit: 'fill' })),
        'ARTIFACT_MODEL_MISMATCH',
      ],
      [
        'a manifest that is not JSON',
        (s) => s.put(key('manifest.json'), new TextEncoder().encode('{]')),
        'ARTIFACT_MANIFEST_INVALID',
      ],
      ['a missing manifest', async (s) => void s.delete(key('manifest.json')), 'ARTIFACT_NOT_FOUND'],
      ['a missing shard', async (s) => void s.delete(key('group1-shard1of1.bin')), 'ARTIFACT_NOT_FOUND'],
    ];

    it.each(cases)('refuses %s', async (_name, tamper, code) => {
      const model = await trainedClassifier();
      const store = new InMemoryArtifactStore();
      await exportModel(model, store, PREFIX, info());
      await tamper(store);
      const error: unknown = await loadExportedModel(store, PREFIX).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ModelArtifactError);
      expect(error).toMatchObject({ code });
      model.dispose();
    });
  });
});

describe('loadExportedModel reads nothing it would refuse', () => {
  /** Records every key read whole. */
  class SpyStore extends InMemoryArtifactStore {
    readonly reads: string[] = [];
    override async get(key: string): Promise<Uint8Array> {
      this.reads.push(key);
      return super.get(key);
    }
  }
  const shardKey = `${PREFIX}/group1-shard1of1.bin`;

  async function exported(): Promise<SpyStore> {
    const model = await trainedClassifier();
    const store = new SpyStore();
    await exportModel(model, store, PREFIX, info());
    model.dispose();
    return store;
  }
  async function codeOf(store: SpyStore): Promise<unknown> {
    const error: unknown = await loadExportedModel(store, PREFIX).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelArtifactError);
    return (error as ModelArtifactError).code;
  }

  it('an object bigger than its declared size (a 64 MiB shard) is refused unread', async () => {
    const store = await exported();
    await store.put(shardKey, new Uint8Array(64 * 1024 * 1024));
    store.reads.length = 0;
    expect(await codeOf(store)).toBe('ARTIFACT_INTEGRITY_MISMATCH');
    expect(store.reads).not.toContain(shardKey);
  });

  it('a shard model.json names but manifest.json does not list is refused unread', async () => {
    const store = await exported();
    const manifest = JSON.parse(
      new TextDecoder().decode(await store.get(`${PREFIX}/manifest.json`)),
    ) as ExportManifest;
    manifest.files = manifest.files.filter((f) => f.path === manifest.modelFile);
    await store.put(`${PREFIX}/manifest.json`, new TextEncoder().encode(JSON.stringify(manifest)));
    store.reads.length = 0;
    expect(await codeOf(store)).toBe('ARTIFACT_MANIFEST_INVALID');
    expect(store.reads).not.toContain(shardKey);
  });

  it('a manifest.json over the JSON cap is refused unread', async () => {
    const store = await exported();
    await store.put(`${PREFIX}/manifest.json`, new Uint8Array(64 * 1024 * 1024).fill(0x20));
    store.reads.length = 0;
    expect(await codeOf(store)).toBe('ARTIFACT_TOO_LARGE');
    expect(store.reads).toEqual([]);
  });
});

describe('FileSystemArtifactStore', () => {
  it('refuses keys that would leave its root', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelsmith-fs-'));
    try {
      const store = new FileSystemArtifactStore(dir);
      await store.put('a/b.bin', new Uint8Array([1, 2, 3]));
      expect([...(await store.get('a/b.bin'))]).toEqual([1, 2, 3]);
      expect(await store.size('a/b.bin')).toBe(3);
      expect(await store.size('a/missing.bin')).toBeNull();
      for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a//b']) {
        await expect(store.put(bad, new Uint8Array([1]))).rejects.toMatchObject({
          code: 'ARTIFACT_PATH_UNSAFE',
        });
        await expect(store.get(bad)).rejects.toMatchObject({ code: 'ARTIFACT_PATH_UNSAFE' });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
