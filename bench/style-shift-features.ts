/**
 * Multi-layer MobileNetV2 features at 224 px of a style-shift dataset, one view at a time, cached in a
 * file per dataset and view (bench/style-shift-robust.ts and style-shift-head.ts share the files: either
 * bench fills the cache for the other).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  multiLayerFeatureExtractor,
  normalizePixels,
  viewOf,
  type FeatureView,
  type ModelZoo,
} from '../libs/ml/src';
import type { ImageDataset } from '../libs/ml/src/data/image-dataset';

export async function cachedMultiLayerFeatures(
  cache: string,
  name: string,
  ds: ImageDataset,
  view: FeatureView,
  zoo: ModelZoo,
): Promise<Float32Array> {
  const file = join(cache, `${name}-${ds.count}-${view}-224-multi.f32`);
  if (existsSync(file)) {
    const b = readFileSync(file);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
  const backbone = await zoo.load('mobilenet_v2', { inputSize: { height: 224, width: 224, channels: 3 } });
  const extractor = multiLayerFeatureExtractor(backbone);
  const dim = extractor.outputs[0].shape[1] as number;
  const size = ds.height * ds.width * 3;
  const out = new Float32Array(ds.count * dim);
  const norm = backbone.spec.normalization;
  for (let s = 0; s < ds.count; s += 16) {
    const n = Math.min(16, ds.count - s);
    const px = normalizePixels(ds.images.subarray(s * size, (s + n) * size), 3, norm);
    const f = tf.tidy(() => {
      const up = tf.image.resizeBilinear(tf.tensor4d(px, [n, ds.height, ds.width, 3]), [224, 224]);
      return extractor.predict(viewOf(up, view, norm)) as tf.Tensor;
    });
    out.set(await f.data(), s * dim);
    f.dispose();
  }
  extractor.dispose();
  await mkdir(cache, { recursive: true });
  await writeFile(file, Buffer.from(out.buffer));
  return out;
}
