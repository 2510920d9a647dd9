import * as tf from '@tensorflow/tfjs';
import { ModelArtifactError } from '../export/artifact-errors';
import type { ArtifactReader } from '../export/artifact-store';
import { InMemoryArtifactStore } from '../export/memory-artifact-store';
import { saveLayersModel } from '../export/save-layers-model';
import { buildClassifier } from './classifier';
import { ModelZoo } from './model-zoo';
import type { RegisteredBackboneInput } from './registered-backbone';
import { buildSmallCnn } from './small-cnn';

const PREFIX = 'tenants/t1/backbones/b1';

/** A reader that records every key it is asked for. */
class RecordingReader implements ArtifactReader {
  readonly keys: string[] = [];
  constructor(private readonly inner: ArtifactReader) {}
  get(key: string): Promise<Uint8Array> {
    this.keys.push(key);
    return this.inner.get(key);
  }
}

function registration(overrides: Partial<RegisteredBackboneInput> = {}): RegisteredBackboneInput {
  return {
    id: 'fashion_cnn',
    displayName: 'Fashion CNN (pretrained here)',
    prefix: PREFIX,
    input: { height: 28, width: 28, channels: 1 },
    normalization: { kind: 'unit' },
    featureLayer: 'features',
    featureDim: 64,
    pretrained: true,
    pretrainedOn: 'Fashion-MNIST classes 0-4',
    license: { spdx: 'Apache-2.0' },
    ...overrides,
  };
}

/** A stored full classifier (backbone + head) as an operator would register it. */
async function storedModel(): Promise<{ store: InMemoryArtifactStore; model: tf.LayersModel }> {
  const cnn = buildSmallCnn({ width: 'xs', inputShape: [28, 28, 1], seed: 11 });
  const head = tf.layers.dense({ units: 5, activation: 'softmax', name: 'old_head' });
  const flat = tf.model({ inputs: cnn.inputs, outputs: head.apply(cnn.outputs[0]) as tf.SymbolicTensor });
  const store = new InMemoryArtifactStore();
  await saveLayersModel(flat, store, PREFIX);
  return { store, model: cnn };
}

interface EditableModelJson {
  format?: string;
  modelTopology: unknown;
  weightsManifest: Array<{ paths: string[]; weights: Array<{ shape: number[]; dtype: string }> }>;
}

async function editModelJson(
  store: InMemoryArtifactStore,
  edit: (json: EditableModelJson) => void,
): Promise<void> {
  const key = `${PREFIX}/model.json`;
  const json = JSON.parse(new TextDecoder().decode(await store.get(key))) as EditableModelJson;
  edit(json);
  await store.put(key, new TextEncoder().encode(JSON.stringify(json)));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('operator-registered backbones', () => {
  it('loads a registered model from the store, truncated at its feature layer', async () => {
    const { store, model } = await storedModel();
    const reader = new RecordingReader(store);
    const zoo = new ModelZoo({ reader });
    const spec = zoo.register(registration());
    expect(spec).toMatchObject({
      family: 'registered',
      source: { kind: 'artifact-store', prefix: PREFIX },
      featureDim: 64,
    });
    expect(zoo.list().map((s) => s.id)).toContain('fashion_cnn');

    const backbone = await zoo.load('fashion_cnn');
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 5);
    const expected = model.predict(x) as tf.Tensor;
    const actual = backbone.model.predict(x) as tf.Tensor;
    expect(actual.shape).toEqual([2, 64]);
    expect(Array.from(await actual.data())).toEqual(Array.from(await expected.data()));
    expect(reader.keys).toEqual([`${PREFIX}/model.json`, `${PREFIX}/group1-shard1of1.bin`]);

    const classifier = buildClassifier(backbone, { numClasses: 3 });
    expect((classifier.model.predict(x) as tf.Tensor).shape).toEqual([2, 3]);
    tf.dispose([x, expected, actual]);
  });

  it('accepts a spatial feature layer and pools it in the classifier head', async () => {
    const { store } = await storedModel();
    const zoo = new ModelZoo({ reader: store });
    zoo.register(registration({ featureLayer: 'block2_pool', featureDim: 16 }));
    const backbone = await zoo.load('fashion_cnn');
    expect(backbone.spec.spatialFeatures).toBe(true);
    expect(backbone.model.outputs[0].shape).toEqual([null, 7, 7, 16]);
    const classifier = buildClassifier(backbone, { numClasses: 2 });
    expect(classifier.headLayers.map((l) => l.getClassName())).toEqual([
      'GlobalAveragePooling2D',
      'Dropout',
      'Dense',
    ]);
    const probabilities = classifier.model.predict(tf.zeros([1, 28, 28, 1])) as tf.Tensor;
    expect(probabilities.shape).toEqual([1, 2]);
    probabilities.dispose();
  });

  it('validates registrations', async () => {
    const zoo = new ModelZoo({ reader: new InMemoryArtifactStore() });
    expect(() => zoo.register(registration({ id: '../evil' }))).toThrow(
      expect.objectContaining({ code: 'ZOO_INVALID_SPEC' }),
    );
    expect(() => zoo.register(registration({ id: 'mobilenet_v2' }))).toThrow(
      expect.objectContaining({ code: 'ZOO_DUPLICATE_BACKBONE' }),
    );
    expect(() =>
      zoo.register(registration({ normalization: { kind: 'meanStd', mean: [0], std: [0] } })),
    ).toThrow(expect.objectContaining({ code: 'ZOO_INVALID_SPEC' }));
    const noReader = new ModelZoo();
    noReader.register(registration());
    await expect(noReader.load('fashion_cnn')).rejects.toMatchObject({ code: 'ZOO_NO_READER' });
  });

  it.each([
    ['a missing feature layer', registration({ featureLayer: 'nope' })],
    ['a wrong feature size', registration({ featureDim: 65 })],
    ['a wrong input size', registration({ input: { height: 32, width: 32, channels: 1 } })],
  ])('refuses a registration with %s when loading', async (_name, input) => {
    const { store } = await storedModel();
    const zoo = new ModelZoo({ reader: store });
    zoo.register(input);
    await expect(zoo.load('fashion_cnn')).rejects.toMatchObject({ code: 'ZOO_SPEC_MISMATCH' });
  });

  type Tamper = (store: InMemoryArtifactStore) => Promise<void>;
  const shardPath =
    (path: string): Tamper =>
    (store) =>
      editModelJson(store, (json) => (json.weightsManifest[0].paths = [path]));
  const cases: Array<[string, Tamper, string]> = [
    ['a parent-directory shard path', shardPath('../b2/group1-shard1of1.bin'), 'ARTIFACT_PATH_UNSAFE'],
    ['a nested parent-directory shard path', shardPath('x/../../b2/w.bin'), 'ARTIFACT_PATH_UNSAFE'],
    ['an absolute shard path', shardPath('/etc/passwd'), 'ARTIFACT_PATH_UNSAFE'],
    ['a URL shard path', shardPath('https://evil.example/w.bin'), 'ARTIFACT_PATH_UNSAFE'],
    ['a Windows shard path', shardPath('C:\\w.bin'), 'ARTIFACT_PATH_UNSAFE'],
    ['a missing shard', shardPath('group1-shard9of9.bin'), 'ARTIFACT_NOT_FOUND'],
    [
      'a duplicated shard',
      (s) => editModelJson(s, (j) => j.weightsManifest[0].paths.push(j.weightsManifest[0].paths[0])),
      'ARTIFACT_MANIFEST_INVALID',
    ],
    [
      'a weight declaring terabytes',
      (s) => editModelJson(s, (j) => (j.weightsManifest[0].weights[0].shape = [1 << 20, 1 << 20])),
      'ARTIFACT_TOO_LARGE',
    ],
    [
      'a weight declaring fewer bytes than stored',
      (s) => editModelJson(s, (j) => (j.weightsManifest[0].weights[0].shape = [1])),
      'ARTIFACT_INTEGRITY_MISMATCH',
    ],
    [
      'a truncated shard',
      async (s) =>
        s.put(
          `${PREFIX}/group1-shard1of1.bin`,
          (await s.get(`${PREFIX}/group1-shard1of1.bin`)).subarray(0, 100),
        ),
      'ARTIFACT_INTEGRITY_MISMATCH',
    ],
    [
      'a graph model',
      (s) => editModelJson(s, (j) => (j.format = 'graph-model')),
      'ARTIFACT_MANIFEST_INVALID',
    ],
    [
      'a string weight',
      (s) => editModelJson(s, (j) => (j.weightsManifest[0].weights[0].dtype = 'string')),
      'ARTIFACT_MANIFEST_INVALID',
    ],
    [
      'model.json that is not JSON',
      (s) => s.put(`${PREFIX}/model.json`, new TextEncoder().encode('{"format": ')),
      'ARTIFACT_MANIFEST_INVALID',
    ],
    [
      'a huge model.json',
      (s) => s.put(`${PREFIX}/model.json`, new Uint8Array(33 * 1024 * 1024)),
      'ARTIFACT_TOO_LARGE',
    ],
    [
      'a corrupt topology',
      (s) =>
        editModelJson(
          s,
          (j) =>
            (j.modelTopology = {
              class_name: 'Model',
              config: { layers: [{ class_name: 'NoSuchLayer', config: {} }] },
            }),
        ),
      'ARTIFACT_MODEL_INVALID',
    ],
  ];

  it.each(cases)(
    'refuses %s with a typed error and reads nothing outside the prefix',
    async (_name, tamper, code) => {
      const { store } = await storedModel();
      await tamper(store);
      const reader = new RecordingReader(store);
      const zoo = new ModelZoo({ reader });
      zoo.register(registration());
      const error: unknown = await zoo.load('fashion_cnn').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ModelArtifactError);
      expect(error).toMatchObject({ code });
      for (const key of reader.keys) {
        expect(key.startsWith(`${PREFIX}/`)).toBe(true);
        expect(key.split('/')).not.toContain('..');
      }
    },
  );

  it('applies configurable caps on shard count', async () => {
    const { store } = await storedModel();
    await editModelJson(store, (j) => (j.weightsManifest[0].paths = ['a.bin', 'b.bin', 'c.bin']));
    const zoo = new ModelZoo({ reader: store, limits: { maxShards: 2 } });
    zoo.register(registration());
    await expect(zoo.load('fashion_cnn')).rejects.toMatchObject({ code: 'ARTIFACT_TOO_LARGE' });
  });
});
