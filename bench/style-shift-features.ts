/**
 * Multi-layer MobileNetV2 features at 224 px of a style-shift dataset, one view at a time, cached in a
 * file per dataset and view (bench/style-shift-robust.ts and style-shift-head.ts share the files: either
 * bench fills the cache for the other).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  ModelZoo,
  multiLayerFeatureExtractor,
  normalizePixels,
  viewOf,
  type FeatureView,
} from '../libs/ml/src';
import type { ImageDataset } from '../libs/ml/src/data/image-dataset';
import { loadOpenclipart } from '../libs/ml/src/data/openclipart';
import { loadTuxpaintStamps } from '../libs/ml/src/data/tuxpaint-stamps';
import { CLIPART_FOLDERS, STAMP_FOLDERS, cpuSeconds, log, onShared } from './style-shift-data';

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

/** Each style's training set: the clip art and the stamps on the shared classes, at 64 px. */
export interface StyleShiftSets {
  clipart: ImageDataset;
  stamps: ImageDataset;
}

/**
 * Both styles' datasets and their cached multi-layer features for every view in `views`, with the
 * CPU-seconds the feature passes took (0 when all came from the cache).
 */
export async function styleShiftFeatures(
  cache: string,
  views: readonly FeatureView[],
): Promise<{
  sets: StyleShiftSets;
  feats: Record<keyof StyleShiftSets, Record<FeatureView, Float32Array>>;
  featureCpuSeconds: number;
}> {
  const sets: StyleShiftSets = {
    clipart: onShared(await loadOpenclipart({ size: 64, classes: CLIPART_FOLDERS }), CLIPART_FOLDERS),
    stamps: onShared(await loadTuxpaintStamps({ size: 64, classes: STAMP_FOLDERS }), STAMP_FOLDERS),
  };
  const zoo = new ModelZoo();
  const cpu0 = cpuSeconds();
  const feats = {} as Record<keyof StyleShiftSets, Record<FeatureView, Float32Array>>;
  for (const v of views)
    for (const [name, ds] of Object.entries(sets) as [keyof StyleShiftSets, ImageDataset][]) {
      feats[name] ??= {} as Record<FeatureView, Float32Array>;
      feats[name][v] = await cachedMultiLayerFeatures(cache, name, ds, v, zoo);
      log(
        `features ${name} ${v} (${(cpuSeconds() - cpu0).toFixed(0)} CPU-s so far, load ${loadavg()[0].toFixed(1)})`,
      );
    }
  return { sets, feats, featureCpuSeconds: cpuSeconds() - cpu0 };
}
