import * as tf from '@tensorflow/tfjs';
import { collectPredictions, evaluateModel, measureLatency, modelSize } from '.';
import { arrayBatches } from '../train';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A fixed linear model: class = argmax(x) for 3-dim inputs (weights = identity * 10). */
function identityModel(): tf.LayersModel {
  const m = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [3], units: 3, activation: 'softmax', useBias: true })],
  });
  m.setWeights([tf.mul(tf.eye(3), 10), tf.zeros([3])]);
  return m;
}

describe('evaluateModel', () => {
  const inputs = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 0, 0],
    [0.2, 0.9, 0],
  ];
  const labels = [0, 1, 2, 1, 1]; // sample 3 is mislabelled -> 4/5 correct
  const batches = arrayBatches({
    count: inputs.length,
    batchSize: 2,
    sampleShape: [3],
    fill: (i, xs, o) => {
      xs.set(inputs[i], o);
      return labels[i];
    },
  });

  it('collects probabilities and labels over batches without leaking tensors', async () => {
    const m = identityModel();
    const before = tf.memory().numTensors;
    const p = await collectPredictions(m, batches);
    expect(tf.memory().numTensors).toBe(before);
    expect(p.numClasses).toBe(3);
    expect(Array.from(p.labels)).toEqual(labels);
    expect(p.probs.length).toBe(15);
    m.dispose();
  });

  it('produces a report with metrics, model size and latency', async () => {
    const m = identityModel();
    const r = await evaluateModel(m, batches, {
      classNames: ['x', 'y', 'z'],
      latency: { runs: 3, warmup: 1 },
    });
    expect(r.numSamples).toBe(5);
    expect(r.accuracy).toBeCloseTo(0.8);
    expect(r.confusionMatrix).toEqual([
      [1, 0, 0],
      [1, 2, 0],
      [0, 0, 1],
    ]);
    expect(r.perClass[1].recall).toBeCloseTo(2 / 3);
    expect(r.perClass[0].precision).toBeCloseTo(1 / 2);
    expect(r.modelSize).toEqual({ params: 12, trainableParams: 12, nonTrainableParams: 0, bytes: 48 });
    expect(r.latency?.msPerImage).toBeGreaterThan(0);
    expect(r.latency?.cpuMsPerImage).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(r.latency?.cpuMsPerImage)).toBe(true);
    expect(r.latency?.backend).toBe('cpu');
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    m.dispose();
  });

  it('model size counts frozen weights as non-trainable', () => {
    const m = identityModel();
    m.layers[0].trainable = false;
    expect(modelSize(m)).toEqual({ params: 12, trainableParams: 0, nonTrainableParams: 12, bytes: 48 });
    const lat = measureLatency(m, { batchSize: 4, runs: 2, warmup: 0 });
    expect(lat.batchSize).toBe(4);
    expect(lat.msPerImage).toBeCloseTo(lat.msPerBatchMean / 4);
    m.dispose();
  });
});
