// Validation-only experiment (docs/text.md): words and characters vectorized apart (each L2-normalized,
// as scikit-learn's FeatureUnion), the word part weighted by a, then joined at unit norm. Test is not read.
// nice npx tsx bench/text/tune-word-weight.ts fortunes-topics '[0.5,1,1.5]' 9
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
import { shuffleOrder, trainAndValidation, validationScore } from './fortune-datasets';

async function main() {
  const name = process.argv[2] ?? 'fortunes-topics';
  const as = JSON.parse(process.argv[3]) as number[];
  const epochs = Number(process.argv[4] ?? 9);
  const { index, train, val } = await trainAndValidation(name);
  const k = index.labels.length;
  const base = (DEFAULT_TEXT_CANDIDATES[0] as LinearTextCandidate).features;
  const wcfg = { ...base, charNgrams: [0, 0] as [number, number] };
  const ccfg = { ...base, wordNgrams: 0 };
  const part = (cfg: typeof base) => {
    const tc = train.texts.map((t) => countBuckets(t, cfg));
    const v = FeatureVocabulary.fromTraining(tc);
    return {
      v,
      tr: tc.map((c) => v.vectorize(c, cfg)),
      va: val.texts.map((t) => v.vectorize(countBuckets(t, cfg), cfg)),
    };
  };
  const W = part(wcfg);
  const C = part(ccfg);
  const F = W.v.size + C.v.size;
  const join = (a: number, xw: SparseVector, xc: SparseVector): SparseVector => {
    const s = 1 / Math.sqrt(a * a + 1);
    const idx = new Uint32Array(xw.indices.length + xc.indices.length);
    const val = new Float32Array(idx.length);
    idx.set(xw.indices);
    for (let i = 0; i < xw.values.length; i++) val[i] = xw.values[i] * a * s;
    for (let i = 0; i < xc.indices.length; i++) {
      idx[xw.indices.length + i] = xc.indices[i] + W.v.size;
      val[xw.indices.length + i] = xc.values[i] * s;
    }
    return { indices: idx, values: val };
  };
  const bal = balancedClassWeights(train.labels, k);
  const runs = as.map((a) => {
    const model = new LinearSoftmax(F, k);
    return {
      a,
      model,
      sgd: new SoftmaxSgd(model, { learningRate: 0.2, l2: 1e-6, classWeights: bal }),
      xs: W.tr.map((x, i) => join(a, x, C.tr[i])),
      xv: W.va.map((x, i) => join(a, x, C.va[i])),
      rng: new Rng(1),
      order: Uint32Array.from({ length: train.texts.length }, (_, i) => i),
    };
  });
  const score = (m: LinearSoftmax, xv: SparseVector[]) =>
    validationScore(xv, val.labels, k, (x, row) => m.predictInto(x, row));
  for (let e = 0; e < epochs; e++) {
    for (const r of runs) {
      shuffleOrder(r.order, r.rng);
      r.sgd.epoch(r.xs, train.labels, r.order);
    }
    console.log(`ep ${e + 1} | ${runs.map((r) => `a=${r.a} ${score(r.model, r.xv)}`).join(' ')}`);
  }
}
void main();
