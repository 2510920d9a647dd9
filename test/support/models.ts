/**
 * Models written straight into a test platform's object store and database, for tests that need a
 * deployable model in seconds instead of a training run: a small seeded CNN exported by libs/ml.
 */
import * as tf from '@tensorflow/tfjs';
import { randomUUID } from 'node:crypto';
import { exportModel, type ExportManifest, type ExportModelInfo } from '@modelsmith/ml';
import { keys } from '@modelsmith/storage';
import type { Platform } from './platform';

export interface StoredModel {
  id: string;
  prefix: string;
  manifest: ExportManifest;
}

/** A 28x28x1 digit classifier with seeded random weights (deterministic, not trained). */
export function tinyDigitModel(seed: number, classes = 10): tf.LayersModel {
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: seed * 10 + offset });
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 4,
      kernelSize: 3,
      strides: 2,
      activation: 'relu',
      kernelInitializer: init(1),
    }),
  );
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init(2) }));
  return model;
}

const DIGIT_MODEL_INFO: Omit<ExportModelInfo, 'classNames'> = {
  task: 'image-classification',
  input: { kind: 'image', height: 28, width: 28, channels: 1, fit: 'fill' },
  normalization: { kind: 'unit' },
  backboneId: 'small_cnn_xs',
  metrics: { accuracy: 0 },
};

/**
 * Exports `model` under the tenant's model prefix and inserts its READY Model row (like a finished
 * training job). The export description defaults to a 28x28 grayscale digit model's.
 */
export async function storeModel(
  p: Pick<Platform, 's3' | 'system'>,
  tenantId: string,
  model: tf.LayersModel,
  classNames: string[],
  name = 'stored model',
  info: Partial<Omit<ExportModelInfo, 'classNames'>> = {},
): Promise<StoredModel> {
  const id = randomUUID();
  const prefix = keys.model(tenantId, id);
  const writer = {
    put: async (key: string, data: Uint8Array, type?: string) =>
      void (await p.s3.store.putBytes(key, Buffer.from(data), type)),
  };
  const manifest = await exportModel(model, writer, prefix, { ...DIGIT_MODEL_INFO, ...info, classNames });
  await p.system.model.create({
    data: {
      id,
      tenantId,
      name,
      task: 'IMAGE_CLASSIFICATION',
      backbone: manifest.backboneId,
      artifactPrefix: prefix,
      manifest: manifest,
      metrics: manifest.metrics,
      sizeBytes: BigInt(manifest.files.reduce((s, f) => s + f.size, 0)),
    },
  });
  return { id, prefix, manifest };
}
