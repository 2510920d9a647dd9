import * as tf from '@tensorflow/tfjs';
import { epochBatches, type DataSource } from './batches';
import { categoricalCrossentropy, toClassIndices } from './losses';

/** Mean loss and accuracy of `model` (inference mode) over a data source's batches. */
export async function evaluateLossAccuracy(
  model: tf.LayersModel,
  data: DataSource,
  req: { epoch: number; startStep: number; seed: number } = { epoch: 0, startStep: 0, seed: 0 },
  lossFn: (ys: tf.Tensor, out: tf.Tensor) => tf.Scalar = (ys, out) => categoricalCrossentropy(ys, out),
): Promise<{ loss: number; accuracy: number; samples: number }> {
  let lossSum = 0;
  let correct = 0;
  let samples = 0;
  for await (const b of epochBatches(data, req)) {
    try {
      const [l, c] = tf.tidy(() => {
        const out = model.apply(b.xs, { training: false }) as tf.Tensor;
        const numClasses = out.shape[out.shape.length - 1];
        const loss = lossFn(b.ys, out);
        const corr = tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), toClassIndices(b.ys, numClasses)), 'int32'));
        return [loss, corr];
      });
      const n = b.xs.shape[0] ?? 0;
      lossSum += l.dataSync()[0] * n;
      correct += c.dataSync()[0];
      samples += n;
      l.dispose();
      c.dispose();
    } finally {
      b.xs.dispose();
      b.ys.dispose();
    }
  }
  return { loss: samples ? lossSum / samples : NaN, accuracy: samples ? correct / samples : NaN, samples };
}
