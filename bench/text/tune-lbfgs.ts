// Validation-only experiments on fortunes-topics (docs/text.md): SGD epochs (with the running mean of
// epochs 2..t), then optionally full-batch L-BFGS warm-started from them. The test split is not read.
// nice npx tsx bench/text/tune-lbfgs.ts <minDf> [--sep] [--lr=0.2] [--epochs=6] [--C=10] [--iters=40]
import { DEFAULT_TEXT_CANDIDATES, type LinearTextCandidate } from '../../libs/ml/src/text';
import { countBuckets, FeatureVocabulary } from '../../libs/ml/src/text/features';
import {
  balancedClassWeights,
  fitSoftmaxLbfgs,
  LinearSoftmax,
  SoftmaxSgd,
} from '../../libs/ml/src/text/linear-model';
import { Rng } from '../../libs/ml/src/train/rng';
import { trainAndValidation, validationScore } from './fortune-datasets';

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
async function main() {
  const minDf = Number(process.argv[2] ?? 1);
  const sep = process.argv.includes('--sep');
  const lr = Number(process.argv.find((a) => a.startsWith('--lr='))?.slice(5) ?? 0.2);
  const sgdEpochs = Number(process.argv.find((a) => a.startsWith('--epochs='))?.slice(9) ?? 6);
  const C = Number(process.argv.find((a) => a.startsWith('--C='))?.slice(4) ?? 10);
  const iters = Number(process.argv.find((a) => a.startsWith('--iters='))?.slice(8) ?? 40);
  const { index, train, val } = await trainAndValidation('fortunes-topics');
  const base = DEFAULT_TEXT_CANDIDATES[0] as LinearTextCandidate;
  const config = { ...base.features, ...(sep ? { separateNorms: true } : {}) };
  const c0 = cpu();
  const tc = train.texts.map((t) => countBuckets(t, config));
  const vocab = FeatureVocabulary.fromTraining(tc, minDf);
  const xs = tc.map((c) => vocab.vectorize(c, config));
  const xv = val.texts.map((t) => vocab.vectorize(countBuckets(t, config), config));
  const k = index.labels.length;
  console.log(`features ${vocab.size}, featurize cpu ${(cpu() - c0).toFixed(1)}`);
  const model = new LinearSoftmax(vocab.size, k);
  const cw = balancedClassWeights(train.labels, k);
  const score = (m: LinearSoftmax) => validationScore(xv, val.labels, k, (x, row) => m.predictInto(x, row));
  const sgd = new SoftmaxSgd(model, { learningRate: lr, l2: 1e-6, classWeights: cw });
  const rng = new Rng(1);
  const order = Uint32Array.from({ length: xs.length }, (_, i) => i);
  const avg = new LinearSoftmax(vocab.size, k);
  let navg = 0;
  for (let e = 0; e < sgdEpochs; e++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const t = cpu();
    sgd.epoch(xs, train.labels, order);
    if (e >= 1) {
      navg++;
      for (let i = 0; i < avg.weights.length; i++)
        avg.weights[i] += (model.weights[i] - avg.weights[i]) / navg;
      for (let c = 0; c < k; c++) avg.bias[c] += (model.bias[c] - avg.bias[c]) / navg;
    }
    console.log(`sgd ep ${e + 1} ${score(model)} | avg(2..) ${score(avg)} cpu ${(cpu() - t).toFixed(1)}`);
  }
  if (iters <= 0) return;
  const init = new Float64Array(vocab.size * k + k);
  for (let i = 0; i < model.weights.length; i++) init[i] = model.weights[i];
  for (let c = 0; c < k; c++) init[vocab.size * k + c] = model.bias[c];
  const t0 = cpu();
  await fitSoftmaxLbfgs(model, xs, train.labels, {
    l2: 1 / (C * xs.length),
    classWeights: cw,
    init,
    maxIterations: iters,
    onIteration: (it) => {
      if ((it.iteration + 1) % 10 === 0) {
        // weights are written only at the end; approximate by reporting f
        console.log(
          `lbfgs it ${it.iteration + 1} f ${it.f.toFixed(5)} g ${it.gradientMax.toExponential(2)} evals ${it.evaluations} cpu ${(cpu() - t0).toFixed(1)}`,
        );
      }
      return true;
    },
  });
  console.log(`lbfgs ${iters} its: ${score(model)} cpu ${(cpu() - t0).toFixed(1)}`);
}
void main();
