import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { imagesToBatch } from '../preprocess/preprocess-image';
import { buildClassifier } from '../zoo/classifier';
import { ModelZoo } from '../zoo/model-zoo';
import { classifyImages } from './classify-images';
import { exportModel } from './export-model';
import { loadExportedModel } from './load-exported-model';
import { InMemoryArtifactStore } from './memory-artifact-store';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('classifies encoded images as the manifest describes, matching a manual preprocess + predict', async () => {
  const backbone = await new ModelZoo().load('small_cnn_xs', {
    inputSize: { height: 32, width: 32, channels: 3 },
    seed: 8,
  });
  const model = buildClassifier(backbone, { numClasses: 3, seed: 8 }).model;
  const store = new InMemoryArtifactStore();
  await exportModel(model, store, 'm', {
    task: 'image-classification',
    input: { kind: 'image', height: 32, width: 32, channels: 3, fit: 'contain' },
    normalization: { kind: 'symmetric' },
    classNames: ['red', 'green', 'blue'],
    backboneId: 'small_cnn_xs',
    metrics: {},
  });
  const exported = await loadExportedModel(store, 'm');
  const colors = [
    { r: 250, g: 10, b: 10 },
    { r: 10, g: 250, b: 10 },
    { r: 10, g: 10, b: 250 },
  ];
  const images = await Promise.all(
    colors.map((background) =>
      sharp({ create: { width: 48, height: 24, channels: 3, background } })
        .png()
        .toBuffer(),
    ),
  );

  const results = await classifyImages(exported, images, { topK: 2, batchSize: 2 });
  expect(results).toHaveLength(3);

  const batch = await imagesToBatch(
    images,
    { height: 32, width: 32, channels: 3, normalization: { kind: 'symmetric' } },
    { fit: 'contain' },
  );
  const expected = (await (model.predict(batch) as tf.Tensor).array()) as number[][];
  results.forEach((result, i) => {
    const row = expected[i];
    const best = row.indexOf(Math.max(...row));
    expect(result.label).toBe(['red', 'green', 'blue'][best]);
    expect(result.score).toBeCloseTo(row[best], 6);
    expect(result.top).toHaveLength(2);
    expect(result.top[0].score).toBeGreaterThanOrEqual(result.top[1].score);
  });
});
