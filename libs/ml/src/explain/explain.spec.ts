import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { prng, randValues, useBackend } from '../kernels/test-utils';
import {
  blurredImage,
  deletionCurve,
  explainCost,
  explainImage,
  explainRequestSchema,
  gradCam,
  gridSegments,
  heatmapOverlayPng,
  integratedGradients,
  limeImage,
  normLime,
  patchOrder,
  rankPixels,
  slicSegments,
  smoothGrad,
  splitAtFeatureMap,
  weightedRidge,
  type ModelImage,
} from '.';

/** A small conv net like the zoo's (conv-relu, max pool, conv, flatten, dense softmax), seeded weights. */
function convNet(activation: 'relu' | 'tanh', seed = 3): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  const input = tf.input({ shape: [12, 12, 3] });
  let x = tf.layers
    .conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation, kernelInitializer: init(1) })
    .apply(input);
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x);
  x = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation, kernelInitializer: init(2) })
    .apply(x);
  x = tf.layers.flatten().apply(x);
  const out = tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(3) }).apply(x);
  return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
}

function randomImage(seed: number, shape: [number, number, number] = [12, 12, 3]): ModelImage {
  const rand = prng(seed);
  return { data: randValues(rand, shape).map((v) => v * 2), shape };
}

/**
 * 8x8x1 images; feature map channel 0 = relu(x), channel 1 = relu(-x) (a fixed 1x1 conv); class 1's
 * logit sums channel 0, class 0's sums channel 1. An image positive on its left half and negative on
 * its right is class-1 evidence on the left only, class-0 evidence on the right only.
 */
function halvesModel(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 1] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'relu', useBias: false });
  let x = conv.apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: 2, activation: 'softmax' });
  const out = dense.apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  conv.setWeights([tf.tensor4d([1, -1], [1, 1, 1, 2])]);
  const kernel = new Float32Array(128 * 2);
  for (let p = 0; p < 64; p++) {
    kernel[(p * 2 + 0) * 2 + 1] = 0.5; // channel 0 -> class 1
    kernel[(p * 2 + 1) * 2 + 0] = 0.5; // channel 1 -> class 0
  }
  dense.setWeights([tf.tensor2d(kernel, [128, 2]), tf.zeros([2])]);
  return model;
}

function halvesImage(left: number, right: number): ModelImage {
  const data = new Float32Array(64);
  for (let p = 0; p < 64; p++) data[p] = (p % 8 < 4 ? left : right) * (0.5 + ((p * 7) % 5) / 10);
  return { data, shape: [8, 8, 1] };
}

function leftShare(heatmap: Float32Array, width = 8): number {
  let left = 0;
  let total = 0;
  heatmap.forEach((v, p) => {
    const pos = Math.max(0, v);
    total += pos;
    if (p % width < width / 2) left += pos;
  });
  return left / total;
}

describe('explain (attribution methods on the serving backend)', () => {
  let backend: string;
  beforeAll(async () => {
    backend = (await initBackend()).name;
  });

  it('Integrated Gradients is complete: attributions sum to p(x) - p(baseline) within 1% (relu conv net, 64 steps)', async () => {
    const model = convNet('relu');
    for (const seed of [1, 2, 3]) {
      const image = randomImage(seed);
      const ig = await integratedGradients(model, image, { steps: 64, batchSize: 16 });
      const gap = ig.probability - ig.baselineProbability;
      expect(Math.abs(gap)).toBeGreaterThan(0.01);
      expect(Math.abs(ig.delta)).toBeLessThan(0.01 * Math.abs(gap) + 2e-3);
      expect(ig.modelImages).toBe(67);
      expect(ig.heatmap).toHaveLength(144);
    }
    model.dispose();
  });

  it('Integrated Gradients converges with steps and does not depend on the batch size (tanh net)', async () => {
    const model = convNet('tanh');
    const image = randomImage(7);
    const coarse = await integratedGradients(model, image, { steps: 2, target: 1 });
    const fine = await integratedGradients(model, image, { steps: 64, target: 1, batchSize: 5 });
    const fineOther = await integratedGradients(model, image, { steps: 64, target: 1, batchSize: 64 });
    // Max pooling makes the path's gradient piecewise: the gap falls about as 1/steps (measured 0.054 at 2, 0.0016 at 64).
    expect(Math.abs(fine.delta)).toBeLessThan(Math.abs(coarse.delta) / 10);
    expect(Math.abs(fine.delta)).toBeLessThan(0.1 * Math.abs(fine.probability - fine.baselineProbability));
    fine.attributions.forEach((v, i) => expect(v).toBeCloseTo(fineOther.attributions[i], 5));
    model.dispose();
  });

  it('gradients on the serving backend equal the cpu backend (Integrated Gradients, SmoothGrad, Grad-CAM)', async () => {
    const model = convNet('relu');
    const image = randomImage(11);
    const here = [
      (await integratedGradients(model, image, { steps: 8, target: 2 })).attributions,
      (await smoothGrad(model, image, { samples: 4, target: 2, seed: 5 })).gradients,
      (await gradCam(model, image, { target: 2 })).heatmap,
    ];
    useBackend('cpu');
    try {
      const cpu = [
        (await integratedGradients(model, image, { steps: 8, target: 2 })).attributions,
        (await smoothGrad(model, image, { samples: 4, target: 2, seed: 5 })).gradients,
        (await gradCam(model, image, { target: 2 })).heatmap,
      ];
      cpu.forEach((values, m) => {
        const scale = Math.max(...values.map(Math.abs));
        expect(scale).toBeGreaterThan(0);
        values.forEach((v, i) => expect(Math.abs(here[m][i] - v)).toBeLessThan(1e-4 * scale + 1e-7));
      });
    } finally {
      useBackend(backend as 'wasm' | 'cpu');
    }
    model.dispose();
  });

  it('SmoothGrad is seeded, and with no noise is the plain gradient', async () => {
    const model = convNet('tanh');
    const image = randomImage(4);
    const a = await smoothGrad(model, image, { samples: 6, seed: 9, batchSize: 4 });
    const b = await smoothGrad(model, image, { samples: 6, seed: 9, batchSize: 6 });
    a.gradients.forEach((v, i) => expect(v).toBeCloseTo(b.gradients[i], 5));
    const noiseless = await smoothGrad(model, image, { samples: 3, noise: 0, target: a.target });
    const plain = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => tf.sum(tf.mul(model.apply(x) as tf.Tensor2D, tf.oneHot([a.target], 4))))(
          tf.tensor4d(image.data, [1, 12, 12, 3]),
        )
        .dataSync(),
    );
    noiseless.gradients.forEach((v, i) => expect(v).toBeCloseTo(plain[i], 5));
    expect(a.gradients.some((v, i) => Math.abs(v - noiseless.gradients[i]) > 1e-4)).toBe(true);
    model.dispose();
  });

  it('Grad-CAM splits the classifier at its last feature map and finds the evidence of each class', async () => {
    const model = halvesModel();
    const split = splitAtFeatureMap(model);
    const image = halvesImage(1, -1);
    const x = tf.tensor4d(image.data, [1, 8, 8, 1]);
    const viaSplit = tf.tidy(() => tf.softmax(split.head(split.features.predict(x) as tf.Tensor)).dataSync());
    const direct = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    viaSplit.forEach((v, i) => expect(v).toBeCloseTo(direct[i], 5));
    x.dispose();
    const forOne = await gradCam(model, image, { target: 1 });
    const forZero = await gradCam(model, image, { target: 0 });
    expect(forOne.camShape).toEqual([8, 8]);
    expect(leftShare(forOne.heatmap)).toBeGreaterThan(0.95);
    expect(leftShare(forZero.heatmap)).toBeLessThan(0.05);
    model.dispose();
  });

  it('weighted ridge recovers a linear function and LIME finds the segments that carry the class', async () => {
    const rand = prng(1);
    const rows = 200;
    const cols = 5;
    const x = new Float64Array(rows * cols).map(() => (rand() < 0.5 ? 0 : 1));
    const truth = [0.5, -1, 2, 0, 0.25];
    const y = Array.from(
      { length: rows },
      (_, i) => 3 + truth.reduce((s, t, j) => s + t * x[i * cols + j], 0),
    );
    const fit = weightedRidge(
      x,
      rows,
      cols,
      y,
      new Array<number>(rows).fill(1).map((_, i) => 1 + (i % 3)),
      1e-6,
    );
    truth.forEach((t, j) => expect(fit.coef[j]).toBeCloseTo(t, 4));
    expect(fit.intercept).toBeCloseTo(3, 4);

    const model = halvesModel();
    const image = halvesImage(1, -1);
    const lime = await limeImage(model, image, {
      target: 1,
      samples: 128,
      segments: { kind: 'grid', rows: 2, cols: 2 },
    });
    expect(lime.segmentation.count).toBe(4);
    expect(lime.weights[0]).toBeGreaterThan(0.05); // top-left cell shown: more class 1
    expect(lime.weights[2]).toBeGreaterThan(0.05); // bottom-left
    expect(lime.weights[1]).toBeLessThan(-0.05); // right cells shown: class-0 evidence
    expect(lime.weights[3]).toBeLessThan(-0.05);
    expect(leftShare(lime.heatmap)).toBeGreaterThan(0.9);
    model.dispose();
  });

  it('SLIC gives dense ids near the requested count and follows an edge', () => {
    const data = new Float32Array(32 * 32 * 3);
    for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = p % 32 < 13 ? 0.1 : 0.9;
    const seg = slicSegments({ data, shape: [32, 32, 3] }, { segments: 16 });
    expect(seg.count).toBeGreaterThanOrEqual(8);
    expect(seg.count).toBeLessThanOrEqual(20);
    expect(new Set(seg.labels).size).toBe(seg.count);
    // No segment holds pixels of both sides of the edge at column 13.
    const sides = new Map<number, Set<boolean>>();
    seg.labels.forEach((l, p) => sides.set(l, (sides.get(l) ?? new Set()).add(p % 32 < 13)));
    for (const s of sides.values()) expect(s.size).toBe(1);
    const grid = gridSegments(28, 28, 7, 7);
    expect(grid.count).toBe(49);
    expect(grid.labels[27 * 28 + 27]).toBe(48);
  });

  it('NormLIME puts each class where its evidence is', async () => {
    const model = halvesModel();
    // Class 1 images carry evidence on the left only, class 0 images on the right only.
    const images = [halvesImage(1, 0), halvesImage(0.8, 0), halvesImage(0, -1), halvesImage(0, -0.6)];
    const report = await normLime(model, images, 2, { grid: { rows: 2, cols: 2 }, samples: 64 });
    expect(report.images).toBe(4);
    expect(report.classes.map((c) => c.explanations)).toEqual([2, 2]);
    expect(report.grid).toEqual({ rows: 2, cols: 2 });
    const [zero, one] = report.classes;
    expect(one.importance[0] + one.importance[2]).toBeGreaterThan(
      4 * (one.importance[1] + one.importance[3]),
    );
    expect(zero.importance[1] + zero.importance[3]).toBeGreaterThan(
      4 * (zero.importance[0] + zero.importance[2]),
    );
    const cut = await normLime(model, images, 2, {
      grid: { rows: 2, cols: 2 },
      samples: 16,
      deadline: Date.now() - 1,
    });
    expect(cut.images).toBe(0);
    // A deadline on another clock (a search's CPU clock): it passes after the second image.
    let reads = 0;
    const clocked = await normLime(model, images, 2, {
      grid: { rows: 2, cols: 2 },
      samples: 16,
      deadlines: [{ at: 2, now: () => reads++ }],
    });
    expect(clocked.images).toBe(2);
    model.dispose();
  });

  it('the deletion curve falls faster along the attribution than along its reverse', async () => {
    const model = halvesModel();
    const image = halvesImage(1, -0.2);
    const cam = await gradCam(model, image, { target: 1 });
    const best = await deletionCurve(model, image, 1, rankPixels(cam.heatmap), { steps: 8 });
    const worst = await deletionCurve(model, image, 1, rankPixels(cam.heatmap.map((v) => -v)), { steps: 8 });
    expect(best.fractions[0]).toBe(0);
    expect(best.fractions[8]).toBe(1);
    expect(best.probabilities[0]).toBeCloseTo(cam.probability, 5);
    expect(best.auc).toBeLessThan(worst.auc - 0.1);
    model.dispose();
  });

  it('the request schema bounds every budget and explainImage dispatches by method', async () => {
    expect(explainRequestSchema.safeParse({ method: 'integrated-gradients', steps: 129 }).success).toBe(
      false,
    );
    expect(explainRequestSchema.safeParse({ method: 'smoothgrad', samples: 65 }).success).toBe(false);
    expect(explainRequestSchema.safeParse({ method: 'lime', samples: 513 }).success).toBe(false);
    expect(explainRequestSchema.safeParse({ method: 'lime', samples: 8 }).success).toBe(false);
    expect(explainRequestSchema.safeParse({ method: 'nope' }).success).toBe(false);
    expect(explainRequestSchema.safeParse({ method: 'grad-cam', extra: 1 }).success).toBe(false);
    const request = explainRequestSchema.parse({});
    expect(request.method).toBe('grad-cam');
    expect(explainCost(request)).toBe(1);
    const model = convNet('relu');
    const image = randomImage(2);
    for (const method of ['integrated-gradients', 'smoothgrad', 'grad-cam', 'lime'] as const) {
      const parsed = explainRequestSchema.parse({
        method,
        samples: method === 'lime' ? 16 : undefined,
        steps: method === 'integrated-gradients' ? 4 : undefined,
      });
      const result = await explainImage(model, image, parsed);
      expect(result.method).toBe(method);
      expect(result.heatmap).toHaveLength(144);
      expect(result.heatmap.every(Number.isFinite)).toBe(true);
    }
    const png = await heatmapOverlayPng(
      new Uint8Array(144 * 3).fill(128),
      3,
      (await gradCam(model, image)).heatmap,
      12,
      12,
      {
        size: { width: 24, height: 24 },
      },
    );
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    model.dispose();
  });

  it('leaks no tensors', async () => {
    const model = convNet('relu');
    const image = randomImage(3);
    await gradCam(model, image); // builds and caches the split once
    const before = tf.memory().numTensors;
    await integratedGradients(model, image, { steps: 4 });
    await smoothGrad(model, image, { samples: 3 });
    await gradCam(model, image);
    await limeImage(model, image, { samples: 16 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('patchOrder', () => {
  it('keeps each patch together, orders patches by mean score, and covers every pixel once', () => {
    const scores = new Float32Array(36);
    for (let p = 0; p < 36; p++) scores[p] = p % 6 >= 3 && Math.floor(p / 6) >= 3 ? 5 : p / 100; // bottom-right 3x3 hottest
    const order = patchOrder(scores, 6, 6, 3);
    expect(new Set(order).size).toBe(36);
    expect(Array.from(order.subarray(0, 9)).sort((a, b) => a - b)).toEqual([
      21, 22, 23, 27, 28, 29, 33, 34, 35,
    ]);
    const random = patchOrder(undefined, 7, 7, 3, 4); // uneven edges: 3x3 patches of 3, 2 and 1 pixels
    expect(new Set(random).size).toBe(49);
  });
});

describe('blurredImage (what deleted pixels take with fill: blur)', () => {
  it('keeps a flat image flat, spreads a spike symmetrically and keeps its mass', () => {
    const flat = blurredImage({ data: new Float32Array(9 * 9 * 3).fill(0.5), shape: [9, 9, 3] }, 2);
    for (const v of flat) expect(v).toBeCloseTo(0.5, 6);
    const spike = new Float32Array(21 * 21);
    spike[10 * 21 + 10] = 1;
    const b = blurredImage({ data: spike, shape: [21, 21, 1] }, 2);
    expect(b.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 5);
    expect(b[10 * 21 + 10]).toBeLessThan(0.1);
    expect(b[10 * 21 + 10]).toBeGreaterThan(b[10 * 21 + 12]);
    expect(b[10 * 21 + 12]).toBeCloseTo(b[12 * 21 + 10], 6);
    expect(b[0]).toBe(0);
    // The input is not changed.
    expect(spike[10 * 21 + 10]).toBe(1);
  });
});
