// Validation-only experiment on a text dataset (docs/text.md, "What was tried"): SGD runs of the
// words+chars candidate side by side, each with its own seed and class-weight exponent (balanced^alpha),
// scored alone and as logit (= weight) averages of the listed groups, epoch by epoch. Test is not read.
// nice npx tsx bench/text/tune-members.ts fortunes-topics '[{"alpha":1,"seed":1},{"alpha":1,"seed":2}]' '[[0,1]]' 10
import { Rng } from '../../libs/ml/src/train/rng';
import {
  balancedClassWeights,
  countBuckets,
  DEFAULT_TEXT_CANDIDATES,
  FeatureVocabulary,
  LinearSoftmax,
  SoftmaxSgd,
  type LinearTextCandidate,
} from '../../libs/ml/src/text';
import { shuffleOrder, trainAndValidation, validationScore } from './fortune-datasets';

async function main() {
  const name = process.argv[2] ?? 'fortunes-topics';
  const members = JSON.parse(process.argv[3]) as { alpha: number; seed: number; lr?: number; l2?: number }[];
  const combos = JSON.parse(process.argv[4]) as number[][];
  const epochs = Number(process.argv[5] ?? 12);
  const { index, train, val } = await trainAndValidation(name);
  const k = index.labels.length;
  const cfg = (DEFAULT_TEXT_CANDIDATES[0] as LinearTextCandidate).features;
  const c0 = process.cpuUsage();
  const tc = train.texts.map((t) => countBuckets(t, cfg));
  const vocab = FeatureVocabulary.fromTraining(tc);
  const xs = tc.map((c) => vocab.vectorize(c, cfg));
  const xv = val.texts.map((t) => vocab.vectorize(countBuckets(t, cfg), cfg));
  const c1 = process.cpuUsage(c0);
  console.log('featurize cpu', (c1.user + c1.system) / 1e6, 'features', vocab.size);
  const bal = balancedClassWeights(train.labels, k);
  const runs = members.map((m) => {
    const model = new LinearSoftmax(vocab.size, k);
    const cw = Float32Array.from(bal, (w) => Math.pow(w, m.alpha));
    const sgd = new SoftmaxSgd(model, { learningRate: m.lr ?? 0.2, l2: m.l2 ?? 1e-6, classWeights: cw });
    const rng = new Rng(m.seed);
    const order = Uint32Array.from({ length: xs.length }, (_, i) => i);
    return { model, sgd, rng, order };
  });
  const score = (ws: LinearSoftmax[]) => {
    const row = new Float32Array(k);
    return validationScore(xv, val.labels, k, (x, acc) => {
      acc.fill(0);
      for (const m of ws) {
        // logits (no softmax): bias + xW
        row.set(m.bias);
        for (let j = 0; j < x.indices.length; j++) {
          const r = x.indices[j] * k;
          const v = x.values[j];
          for (let c = 0; c < k; c++) row[c] += m.weights[r + c] * v;
        }
        for (let c = 0; c < k; c++) acc[c] += row[c];
      }
    });
  };
  for (let e = 0; e < epochs; e++) {
    const t0 = process.cpuUsage();
    for (const r of runs) {
      shuffleOrder(r.order, r.rng);
      r.sgd.epoch(xs, train.labels, r.order);
    }
    const t1 = process.cpuUsage(t0);
    const single = runs.map((r) => score([r.model])).join(' ');
    const combo = combos.map((c) => `[${c.join(',')}] ${score(c.map((i) => runs[i].model))}`).join(' ');
    console.log(`ep ${e + 1} cpu ${((t1.user + t1.system) / 1e6).toFixed(1)} | ${single} | ${combo}`);
  }
}
void main();
