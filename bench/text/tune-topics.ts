// Validation-only experiments on fortunes-topics (docs/text.md): variants of the words+chars/balanced
// candidate, as JSON partials of LinearTextCandidate. The test split is not read.
// nice npx tsx bench/text/tune-topics.ts fortunes-topics '[{},{"l2":1e-5}]' [minDf]
import {
  DEFAULT_TEXT_CANDIDATES,
  trainTextClassifier,
  type LinearTextCandidate,
} from '../../libs/ml/src/text';
import { trainAndValidation } from './fortune-datasets';

async function main() {
  const name = process.argv[2] ?? 'fortunes-topics';
  const variants = JSON.parse(process.argv[3] ?? '[]') as Partial<LinearTextCandidate>[];
  const minDf = Number(process.argv[4] ?? 1);
  const { index, train, val } = await trainAndValidation(name);
  const base = DEFAULT_TEXT_CANDIDATES[0] as LinearTextCandidate;
  const candidates = variants.map((v, i) => ({
    ...base,
    ...v,
    name: `v${i}:${JSON.stringify(v)}`,
    features: { ...base.features, ...(v.features ?? {}) },
  }));
  const cpu0 = process.cpuUsage();
  let last = cpu0;
  const r = await trainTextClassifier(train, val, {
    classNames: index.labels,
    seed: 1,
    candidates,
    minDf,
    maxEpochs: 20,
    onEpoch: (l) => {
      const c = process.cpuUsage(last);
      last = process.cpuUsage();
      console.log(
        `${l.candidate} ep ${l.epoch + 1} acc ${l.valAccuracy.toFixed(4)} f1 ${l.valMacroF1.toFixed(4)} cpu ${((c.user + c.system) / 1e6).toFixed(1)}`,
      );
    },
  });
  for (const t of r.trials) console.log('TRIAL', JSON.stringify(t));
  const c = process.cpuUsage(cpu0);
  console.log('total cpu', (c.user + c.system) / 1e6);
}
void main();
