// Validation-only experiment (docs/text.md): AdaGrad SGD with the L2 decay applied at every sample
// (caught up lazily when a row is touched), i.e. scikit-learn's penalty on rare n-grams too, for a
// few L2 strengths. Test is not read.
// nice npx tsx bench/text/tune-full-l2.ts fortunes-topics '[{"l2":1e-5,"lr":0.2}]' 12
import { Rng } from '../../libs/ml/src/train/rng';
import {
  balancedClassWeights,
  countBuckets,
  DEFAULT_TEXT_CANDIDATES,
  FeatureVocabulary,
  LinearSoftmax,
  type LinearTextCandidate,
  type SparseVector,
} from '../../libs/ml/src/text';
import { shuffleOrder, trainAndValidation, validationScore } from './fortune-datasets';

/** AdaGrad SGD with the L2 decay applied for every sample (lazily caught up on touch). */
class FullL2Sgd {
  g2w: Float64Array;
  g2b: Float64Array;
  last: Float64Array;
  probs: Float32Array;
  grad: Float64Array;
  t = 0;
  constructor(
    readonly model: LinearSoftmax,
    readonly lr: number,
    readonly l2: number,
    readonly cw?: Float32Array,
  ) {
    this.g2w = new Float64Array(model.numFeatures);
    this.last = new Float64Array(model.numFeatures);
    this.g2b = new Float64Array(model.numClasses);
    this.probs = new Float32Array(model.numClasses);
    this.grad = new Float64Array(model.numClasses);
  }
  epoch(xs: SparseVector[], ys: ArrayLike<number>, order: ArrayLike<number>) {
    const { model, g2w, g2b, probs, grad, lr, l2, last } = this;
    const k = model.numClasses;
    const w = model.weights;
    const b = model.bias;
    for (let o = 0; o < order.length; o++) {
      const x = xs[order[o]];
      const y = ys[order[o]];
      this.t++;
      // catch up decay on touched rows before predicting
      for (let i = 0; i < x.indices.length; i++) {
        const f = x.indices[i];
        const skipped = this.t - 1 - last[f];
        if (skipped > 0 && g2w[f] > 0) {
          const step = lr / Math.sqrt(g2w[f] + 1e-8);
          const d = Math.pow(Math.max(0, 1 - step * l2), skipped);
          const row = f * k;
          for (let c = 0; c < k; c++) w[row + c] *= d;
        }
        last[f] = this.t - 1;
      }
      model.predictInto(x, probs);
      const sw = this.cw ? this.cw[y] : 1;
      let gsq = 0;
      for (let c = 0; c < k; c++) {
        const g = sw * (probs[c] - (c === y ? 1 : 0));
        grad[c] = g;
        gsq += g * g;
        g2b[c] += g * g;
        b[c] -= (lr * g) / Math.sqrt(g2b[c] + 1e-8);
      }
      for (let i = 0; i < x.indices.length; i++) {
        const f = x.indices[i];
        const row = f * k;
        const v = x.values[i];
        g2w[f] += gsq * v * v;
        const step = lr / Math.sqrt(g2w[f] + 1e-8);
        const sv = step * v;
        const decay = 1 - step * l2;
        for (let c = 0; c < k; c++) w[row + c] = w[row + c] * decay - sv * grad[c];
        last[f] = this.t;
      }
    }
  }
  /** apply pending decay to all rows (before scoring) */
  flush() {
    const k = this.model.numClasses;
    const w = this.model.weights;
    for (let f = 0; f < this.model.numFeatures; f++) {
      const skipped = this.t - this.last[f];
      if (skipped > 0 && this.g2w[f] > 0) {
        const step = this.lr / Math.sqrt(this.g2w[f] + 1e-8);
        const d = Math.pow(Math.max(0, 1 - step * this.l2), skipped);
        for (let c = 0; c < k; c++) w[f * k + c] *= d;
      }
      this.last[f] = this.t;
    }
  }
}

async function main() {
  const name = process.argv[2] ?? 'fortunes-topics';
  const members = JSON.parse(process.argv[3]) as { l2: number; lr: number; alpha?: number }[];
  const epochs = Number(process.argv[4] ?? 10);
  const { index, train, val } = await trainAndValidation(name);
  const k = index.labels.length;
  const cfg = (DEFAULT_TEXT_CANDIDATES[0] as LinearTextCandidate).features;
  const tc = train.texts.map((t) => countBuckets(t, cfg));
  const vocab = FeatureVocabulary.fromTraining(tc);
  const xs = tc.map((c) => vocab.vectorize(c, cfg));
  const xv = val.texts.map((t) => vocab.vectorize(countBuckets(t, cfg), cfg));
  const bal = balancedClassWeights(train.labels, k);
  const runs = members.map((m) => {
    const model = new LinearSoftmax(vocab.size, k);
    const cw = Float32Array.from(bal, (w) => Math.pow(w, m.alpha ?? 1));
    return {
      model,
      sgd: new FullL2Sgd(model, m.lr, m.l2, cw),
      rng: new Rng(1),
      order: Uint32Array.from({ length: xs.length }, (_, i) => i),
    };
  });
  const score = (m: LinearSoftmax) => validationScore(xv, val.labels, k, (x, row) => m.predictInto(x, row));
  for (let e = 0; e < epochs; e++) {
    const t0 = process.cpuUsage();
    for (const r of runs) {
      shuffleOrder(r.order, r.rng);
      r.sgd.epoch(xs, train.labels, r.order);
      r.sgd.flush();
    }
    const t1 = process.cpuUsage(t0);
    console.log(
      `ep ${e + 1} cpu ${((t1.user + t1.system) / 1e6).toFixed(1)} | ${runs.map((r, i) => `${JSON.stringify(members[i])} ${score(r.model)}`).join(' ')}`,
    );
  }
}
void main();
