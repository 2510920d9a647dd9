import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import {
  classifyImages,
  initBackend,
  InMemoryArtifactStore,
  loadExportedModel,
  ModelArtifactError,
  type ArtifactReader,
} from '@modelsmith/ml';
import { ServingClosedError, ServingOverloadedError, ServingTimeoutError } from './errors';
import type { ModelRef } from './serving-engine';
import { engineMaker, expectSamePredictions, noisePngs, storeTinyModel } from './spec-fixtures';

/**
 * Lifecycle and safety of the engine: close() with work queued, integrity retries, load deadlines,
 * models over the cap, concurrent loads racing for a small cache, and more hostile manifests.
 */

const CLASSES = ['a', 'b', 'c'];
const MODEL_BYTES = (3 * 3 * 1 * 2 + 2 + 7 * 7 * 2 * 3 + 3) * 4;

const stored = (store: InMemoryArtifactStore, id: string, seed: number) =>
  storeTinyModel(store, id, seed, { size: 16, channels: 1, filters: [2], stride: 2, classNames: CLASSES });
const images = (n: number, seed: number) => noisePngs(n, seed, 1, () => 20);

interface Manifest {
  files: { path: string; size: number; sha256: string }[];
}

const soon = (ms = 10_000) => Date.now() + ms;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('ServingEngine lifecycle and safety (wasm backend)', () => {
  let store: InMemoryArtifactStore;
  let refs: ModelRef[];
  let inputs: Buffer[];
  const { engine, closeAll } = engineMaker(() => ({
    reader: store,
    maxModelBytes: 1 << 30,
    maxBatchSize: 4,
    autoBatchSize: false,
    maxBatchWaitMs: 0,
    maxQueuedImages: 64,
    integrityRetryMs: 20,
  }));

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    store = new InMemoryArtifactStore();
    refs = [await stored(store, 'x1', 11), await stored(store, 'x2', 12), await stored(store, 'x3', 13)];
    inputs = await images(6, 7);
  });

  afterAll(closeAll);

  it('close() rejects queued work with ServingClosedError and resolves with every tensor freed; a second close() is fine', async () => {
    const before = tf.memory().numTensors;
    const e = engine({ maxBatchWaitMs: 5_000, maxBatchSize: 64 });
    await e.warm(refs[0]);
    await e.warm(refs[1]);
    const queued = [
      e.predict(refs[0], inputs.slice(0, 2), { deadline: soon() }),
      e.predict(refs[1], inputs.slice(2, 3), { deadline: soon() }),
    ].map((p) => p.catch((x: unknown) => x));
    while (e.stats().models.reduce((n, m) => n + m.queuedImages, 0) < 3) await sleep(2);
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    const closing = [e.close(), e.close()];
    for (const outcome of await Promise.all(queued)) expect(outcome).toBeInstanceOf(ServingClosedError);
    await Promise.all(closing);
    expect(tf.memory().numTensors).toBe(before);
    expect(e.stats()).toMatchObject({ models: [], totalBytes: 0, evictions: 0 });
    await expect(e.warm(refs[0])).rejects.toBeInstanceOf(ServingClosedError);
    await e.close();
  });

  it('serves concurrent first requests for several models under a cap that fits one, then frees everything', async () => {
    const before = tf.memory().numTensors;
    const e = engine({ maxModelBytes: MODEL_BYTES });
    const results = await Promise.all(
      [...refs, ...refs].map((ref, i) => e.predict(ref, [inputs[i]], { deadline: soon() })),
    );
    for (const [i, r] of results.entries()) {
      expect(r.modelId).toBe(refs[i % 3].modelId);
      expect(r.predictions).toHaveLength(1);
    }
    const stats = e.stats();
    expect(stats.models).toHaveLength(1);
    expect(stats.totalBytes).toBeLessThanOrEqual(MODEL_BYTES);
    expect(stats.evictions).toBeGreaterThanOrEqual(2);
    await e.close();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('serves a model bigger than the whole cap (counted at the cap), and drops it for the next one', async () => {
    const e = engine({ maxModelBytes: Math.floor(MODEL_BYTES / 2) });
    const result = await e.predict(refs[0], inputs.slice(0, 2), { deadline: soon() });
    const reference = await loadExportedModel(store, refs[0].prefix);
    expectSamePredictions(
      result.predictions,
      await classifyImages(reference, inputs.slice(0, 2), { topK: 5 }),
    );
    reference.model.dispose();
    let stats = e.stats();
    expect(stats.models.map((m) => [m.modelId, m.bytes])).toEqual([['x1', MODEL_BYTES]]);
    expect(stats.totalBytes).toBe(stats.maxBytes);
    await e.predict(refs[1], [inputs[0]], { deadline: soon() });
    stats = e.stats();
    expect(stats.models.map((m) => m.modelId)).toEqual(['x2']);
    expect(stats.evictions).toBe(1);
  });

  it('retries a load that failed its integrity check once, after a delay (files being rewritten)', async () => {
    const shardKey = store.keys().find((k) => k.startsWith(refs[2].prefix) && k.endsWith('.bin'))!;
    let corruptReads = 1;
    const reads: string[] = [];
    const flaky: ArtifactReader = {
      get: async (key) => {
        reads.push(key);
        const data = await store.get(key);
        if (key === shardKey && corruptReads-- > 0) data[0] ^= 0xff;
        return data;
      },
    };
    const e = engine({ reader: flaky });
    await expect(e.predict(refs[2], [inputs[0]], { deadline: soon() })).resolves.toMatchObject({
      modelId: 'x3',
    });
    expect(reads.filter((k) => k === shardKey)).toHaveLength(2);
    expect(e.stats()).toMatchObject({ loads: 1, loadFailures: 0 });

    // Corrupt on both attempts: refused, counted, not cached; a later request tries again.
    corruptReads = 2;
    const e2 = engine({ reader: flaky });
    const error = await e2.predict(refs[2], [inputs[0]], { deadline: soon() }).catch((x: unknown) => x);
    expect(error).toBeInstanceOf(ModelArtifactError);
    expect((error as ModelArtifactError).code).toBe('ARTIFACT_INTEGRITY_MISMATCH');
    expect(e2.stats()).toMatchObject({ models: [], loads: 0, loadFailures: 1 });
    await expect(e2.predict(refs[2], [inputs[0]], { deadline: soon() })).resolves.toMatchObject({
      modelId: 'x3',
    });
    expect(e2.stats()).toMatchObject({ loads: 1, loadFailures: 1 });
  });

  it('rejects a request whose deadline passes while its model loads; the load completes for later requests', async () => {
    const slow: ArtifactReader = {
      get: async (key) => {
        await sleep(60);
        return store.get(key);
      },
    };
    const e = engine({ reader: slow });
    const late = await e
      .predict(refs[0], [inputs[0]], { deadline: Date.now() + 20 })
      .catch((x: unknown) => x);
    expect(late).toBeInstanceOf(ServingTimeoutError);
    expect((late as ServingTimeoutError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await expect(e.predict(refs[0], [inputs[0]], { deadline: soon() })).resolves.toMatchObject({
      modelId: 'x1',
    });
    expect(e.stats().loads).toBe(1);
  });

  it('takes an Infinity deadline as none (the batch prediction job passes it), across several passes', async () => {
    const e = engine({ maxBatchSize: 1 });
    const result = await e.predict(refs[1], inputs, { deadline: Number.POSITIVE_INFINITY });
    const reference = await loadExportedModel(store, refs[1].prefix);
    expectSamePredictions(result.predictions, await classifyImages(reference, inputs, { topK: 5 }));
    reference.model.dispose();
    expect(e.stats().models[0].batches).toBe(inputs.length);
    await expect(e.predict(refs[1], [inputs[0]], { deadline: Number.NaN })).rejects.toBeInstanceOf(
      RangeError,
    );
  });

  it('rejects at once a request whose deadline already passed', async () => {
    const e = engine();
    await e.warm(refs[0]);
    await expect(e.predict(refs[0], [inputs[0]], { deadline: Date.now() - 1 })).rejects.toBeInstanceOf(
      ServingTimeoutError,
    );
  });

  it('sheds with a Retry-After estimated from the measured throughput (at least 1 s)', async () => {
    const e = engine({ maxQueuedImages: 2, maxBatchWaitMs: 300, maxBatchSize: 8 });
    await e.predict(refs[0], [inputs[0]], { deadline: soon() }); // one pass measured
    const queued = e.predict(refs[0], inputs.slice(0, 2), { deadline: soon() });
    while (e.stats().models[0].queuedImages < 2) await sleep(2);
    const shed = await e.predict(refs[0], [inputs[0]], { deadline: soon() }).catch((x: unknown) => x);
    expect(shed).toBeInstanceOf(ServingOverloadedError);
    expect((shed as ServingOverloadedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(Number.isInteger((shed as ServingOverloadedError).retryAfterSeconds)).toBe(true);
    await expect(queued).resolves.toMatchObject({ modelId: 'x1' });
  });

  describe('hostile manifests are refused before any weight is loaded', () => {
    let hostile: InMemoryArtifactStore;
    let ref: ModelRef;
    let pristine: Manifest;
    let manifestKey: string;

    beforeEach(async () => {
      hostile = new InMemoryArtifactStore();
      ref = await stored(hostile, 'evil', 21);
      manifestKey = `${ref.prefix}manifest.json`;
      pristine = JSON.parse(Buffer.from(await hostile.get(manifestKey)).toString()) as Manifest;
    });

    async function refused(tamper: (m: Manifest) => Promise<void> | void, code: string): Promise<void> {
      const manifest = structuredClone(pristine);
      await tamper(manifest);
      await hostile.put(manifestKey, Buffer.from(JSON.stringify(manifest)));
      const tensors = tf.memory().numTensors;
      const e = engine({ reader: hostile, artifactLimits: { maxWeightBytes: 1 << 20 } });
      const error = await e.predict(ref, [inputs[0]], { deadline: soon() }).catch((x: unknown) => x);
      expect(error).toBeInstanceOf(ModelArtifactError);
      expect((error as ModelArtifactError).code).toBe(code);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(e.stats()).toMatchObject({ models: [], loads: 0, loadFailures: 1 });
    }

    const shardOf = (m: Manifest) => m.files.find((f) => f.path !== 'model.json')!;

    it('a path escaping the prefix', () =>
      refused((m) => void (shardOf(m).path = `../other/${shardOf(m).path}`), 'ARTIFACT_PATH_UNSAFE'));
    it('an absolute path', () =>
      refused((m) => void (shardOf(m).path = '/etc/passwd'), 'ARTIFACT_PATH_UNSAFE'));
    it('a declared size over the weight cap', () =>
      refused((m) => void (shardOf(m).size = 2 ** 31), 'ARTIFACT_TOO_LARGE'));
    it('a manifest that is not a model manifest', () =>
      refused(
        (m) => void ((m as unknown as { format: string }).format = 'other'),
        'ARTIFACT_MANIFEST_INVALID',
      ));
    it('a weight file the manifest does not list', () =>
      refused(async (m) => {
        // model.json (re-signed in the manifest) points at a shard the manifest does not list.
        const modelJsonKey = `${ref.prefix}model.json`;
        const modelJson = JSON.parse(Buffer.from(await hostile.get(modelJsonKey)).toString()) as {
          weightsManifest: { paths: string[] }[];
        };
        const original = shardOf(m).path;
        await hostile.put(`${ref.prefix}unlisted.bin`, await hostile.get(`${ref.prefix}${original}`));
        modelJson.weightsManifest[0].paths = ['unlisted.bin'];
        const bytes = Buffer.from(JSON.stringify(modelJson));
        await hostile.put(modelJsonKey, bytes);
        const entry = m.files.find((f) => f.path === 'model.json')!;
        entry.size = bytes.byteLength;
        entry.sha256 = sha256(bytes);
      }, 'ARTIFACT_MANIFEST_INVALID'));
    it('model.json altered after export', () =>
      refused(async () => {
        const modelJsonKey = `${ref.prefix}model.json`;
        const bytes = Buffer.from(await hostile.get(modelJsonKey));
        await hostile.put(modelJsonKey, Buffer.from(bytes.toString().replace('"relu"', '"tanh"')));
      }, 'ARTIFACT_INTEGRITY_MISMATCH'));
  });
});
