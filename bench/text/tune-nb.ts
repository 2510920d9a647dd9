// Validation-only experiment (docs/text.md): the words+chars/balanced SGD model's logits plus lambda x
// a multinomial or complement naive Bayes model's (both linear in the TF-IDF vector, so their sum is
// one linear model), for NB smoothing 0.01-0.3 and lambda 0.1-3, epoch by epoch. Test is not read.
// nice npx tsx bench/text/tune-nb.ts fortunes-topics 8
import { accuracy, classificationMetrics, confusionMatrix } from '../../libs/ml/src/eval/metrics';
import { Rng } from '../../libs/ml/src/train/rng';
import {
  balancedClassWeights,
  countBuckets,
  DEFAULT_TEXT_CANDIDATES,
  FeatureVocabulary,
  LinearSoftmax,
  SoftmaxSgd,
  type LinearTextCandidate,
  type SparseVector,
} from '../../libs/ml/src/text';
import { trainAndValidation } from './fortune-datasets';

async function main() {
  const name = process.argv[2] ?? 'fortunes-topics';
  const epochs = Number(process.argv[3] ?? 8);
  const { index, train, val } = await trainAndValidation(name);
  const k = index.labels.length;
  const cfg = (DEFAULT_TEXT_CANDIDATES[0] as LinearTextCandidate).features;
  const tc = train.texts.map((t) => countBuckets(t, cfg));
  const vocab = FeatureVocabulary.fromTraining(tc);
  const F = vocab.size;
  const xs = tc.map((c) => vocab.vectorize(c, cfg));
  const xv = val.texts.map((t) => vocab.vectorize(countBuckets(t, cfg), cfg));
  const logits = (xsv: SparseVector[], w: Float32Array | Float64Array, b: ArrayLike<number>) => {
    const out = new Float64Array(xsv.length * k);
    xsv.forEach((x, i) => {
      for (let c = 0; c < k; c++) out[i * k + c] = b[c];
      for (let j = 0; j < x.indices.length; j++) {
        const r = x.indices[j] * k;
        const v = x.values[j];
        for (let c = 0; c < k; c++) out[i * k + c] += w[r + c] * v;
      }
    });
    return out;
  };
  const sc = (z: Float64Array) => {
    const pred = new Int32Array(xv.length);
    for (let i = 0; i < xv.length; i++) {
      let b = 0;
      for (let c = 1; c < k; c++) if (z[i * k + c] > z[i * k + b]) b = c;
      pred[i] = b;
    }
    const cm = confusionMatrix(val.labels, pred, k);
    return `${accuracy(val.labels, pred).toFixed(4)}/${classificationMetrics(cm).macro.f1.toFixed(4)}`;
  };
  // NB sufficient statistics
  const N = new Float64Array(F * k);
  const prior = new Float64Array(k);
  xs.forEach((x, i) => {
    const y = train.labels[i];
    prior[y]++;
    for (let j = 0; j < x.indices.length; j++) N[x.indices[j] * k + y] += x.values[j];
  });
  const Nc = new Float64Array(k);
  const Nf = new Float64Array(F);
  for (let f = 0; f < F; f++)
    for (let c = 0; c < k; c++) {
      Nc[c] += N[f * k + c];
      Nf[f] += N[f * k + c];
    }
  const tot = Nc.reduce((a, b) => a + b, 0);
  const nbs: { name: string; z: Float64Array }[] = [];
  for (const alpha of [0.01, 0.03, 0.1, 0.3]) {
    const w = new Float64Array(F * k);
    const wc = new Float64Array(F * k);
    for (let f = 0; f < F; f++)
      for (let c = 0; c < k; c++) {
        w[f * k + c] = Math.log((N[f * k + c] + alpha) / (Nc[c] + alpha * F));
        wc[f * k + c] = -Math.log((Nf[f] - N[f * k + c] + alpha) / (tot - Nc[c] + alpha * F));
      }
    const zero = new Float64Array(k);
    const lp = Array.from(prior, (p) => Math.log(p / xs.length));
    nbs.push({ name: `mnb${alpha}`, z: logits(xv, w, zero) });
    nbs.push({ name: `mnb${alpha}+prior`, z: logits(xv, w, lp) });
    nbs.push({ name: `cnb${alpha}`, z: logits(xv, wc, zero) });
  }
  // standardize NB logits per text: subtract mean over classes (doesn't change argmax)
  console.log('NB alone:', nbs.map((n) => `${n.name} ${sc(n.z)}`).join(' '));
  const model = new LinearSoftmax(F, k);
  const sgd = new SoftmaxSgd(model, {
    learningRate: 0.2,
    l2: 1e-6,
    classWeights: balancedClassWeights(train.labels, k),
  });
  const rng = new Rng(1);
  const order = Uint32Array.from({ length: xs.length }, (_, i) => i);
  for (let e = 0; e < epochs; e++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    sgd.epoch(xs, train.labels, order);
    const zl = logits(xv, model.weights, model.bias);
    const parts = [`ep ${e + 1} lr ${sc(zl)}`];
    for (const nb of nbs) {
      const cells: string[] = [];
      for (const lam of [0.1, 0.3, 1, 3]) {
        const z = zl.map((v, i) => v + lam * nb.z[i]);
        cells.push(`${lam}:${sc(z)}`);
      }
      parts.push(`${nb.name} ${cells.join(' ')}`);
    }
    console.log(parts.join('\n   '));
  }
}
void main();
