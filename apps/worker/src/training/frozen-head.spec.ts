import * as tf from '@tensorflow/tfjs';
import { standardize } from './frozen-head';

describe('standardize', () => {
  it('standardizes the columns, and the folded dense layer gives on raw features what it gave on standardized ones', () => {
    const dim = 4;
    const count = 12;
    // Columns on very different scales, one constant.
    const raw = Float32Array.from({ length: count * dim }, (_, i) => {
      const [r, d] = [Math.floor(i / dim), i % dim];
      return d === 3 ? 2.5 : Math.sin(r * 1.7 + d) * 10 ** d + d;
    });
    const f = { values: Float32Array.from(raw), labels: new Int32Array(count), count };
    const s = standardize(f, dim);
    for (let d = 0; d < 3; d++) {
      const col = Array.from({ length: count }, (_, r) => f.values[r * dim + d]);
      const mean = col.reduce((a, b) => a + b, 0) / count;
      expect(mean).toBeCloseTo(0, 4);
      expect(Math.sqrt(col.reduce((a, b) => a + b * b, 0) / count)).toBeCloseTo(1, 4);
    }
    const dense = tf.layers.dense({
      units: 3,
      inputShape: [dim],
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      biasInitializer: tf.initializers.randomNormal({ seed: 4 }),
    });
    const model = tf.sequential({ layers: [dense] });
    const onStandardized = (
      model.predict(tf.tensor2d(f.values, [count, dim])) as tf.Tensor
    ).arraySync() as number[][];
    s.fold([dense]);
    const onRaw = (model.predict(tf.tensor2d(raw, [count, dim])) as tf.Tensor).arraySync() as number[][];
    onRaw.forEach((row, r) => row.forEach((v, k) => expect(v).toBeCloseTo(onStandardized[r][k], 3)));
    model.dispose();
  });
});
