/**
 * Where our tabular search spends its CPU time, per dataset of bench/tabular-vs-sklearn.ts (the same
 * product ingestion and split): the whole trainTabular call (cold = the first call in this process, then warm = median of
 * `--repeats`), and its phases timed separately on the warm path (preprocessing, each candidate's
 * fit, validation scoring).
 *
 *   nice npx tsx bench/tabular-profile.ts [--repeats 3] [--only digits] [--plan] [--warm-up]
 *   (--plan: also a job's trials in mode auto: sharing one prepareTabular, each as the worker runs it
 *   (trainTabularTrial, rungs), and, alternating, each preparing its own without rungs (the path
 *   before wt-tabsel); 3 rounds)
 *   nice node --cpu-prof --cpu-prof-dir /tmp/prof -r tsx/cjs bench/tabular-profile.ts --only digits
 *
 * Prints one line per dataset and phase; writes nothing (a diagnostic, not a result).
 */
import { GbdtRungs, prepareTabular, trainTabular, trainTabularTrial, warmUpTabular } from '../libs/ml/src';
import { tabularSearchPlan, tabularSlotRuns } from '../apps/worker/src/training/tabular-plan';
import { trainGbdt } from '../libs/ml/src/tabular/gbdt';
import { trainLinear } from '../libs/ml/src/tabular/linear';
import { fitPreprocessor, transformRows, transformTrainingRows } from '../libs/ml/src/tabular/preprocess';
import { encodeTarget } from '../libs/ml/src/tabular/train-tabular';
import { datasets, productTable, searchOptions } from './tabular-data';

const arg = (name: string, dflt: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt;
const repeats = Number(arg('--repeats', '3'));
const only = arg('--only', '');

function cpu<T>(f: () => T): [T, number] {
  const c0 = process.cpuUsage();
  const r = f();
  const c = process.cpuUsage(c0);
  return [r, (c.user + c.system) / 1e6];
}
async function cpuAsync<T>(f: () => Promise<T>): Promise<[T, number]> {
  const c0 = process.cpuUsage();
  const r = await f();
  const c = process.cpuUsage(c0);
  return [r, (c.user + c.system) / 1e6];
}
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

async function main(): Promise<void> {
  // --warm-up: the worker's start-up warm-up first (without it the first rounds pay V8's compiling).
  if (process.argv.includes('--warm-up')) await warmUpTabular();
  for (const ds of datasets()) {
    if ('skipped' in ds || (only && ds.name !== only)) continue;
    const t = await productTable(ds);
    const { target, task, types } = t;
    const classes = t.classes ?? [];
    const train = t.train;
    const valid = t.validation;
    const opts = searchOptions(t, 20261206);
    const whole: number[] = [];
    let chosen = '';
    for (let r = 0; r <= repeats; r++) {
      const c0 = process.cpuUsage();
      const res = await trainTabular(opts);
      const c = process.cpuUsage(c0);
      whole.push((c.user + c.system) / 1e6);
      chosen = `${res.chosen.name} ${res.candidates.map((x) => `${x.name}:${x.iterations ?? ''}:${x.validScore.toFixed(3)}`).join(' ')}`;
    }
    if (process.argv.includes('--plan')) {
      // A job's trials (mode auto, the worker's plan and seed 1): one trainTabular per trial as
      // apps/worker TabularTrainService calls it (gbdt_small skipped above SMALL_TABLE_ROWS), sharing
      // one prepareTabular (encoders, matrices, leakage check) as the worker does; then (alternating,
      // 3 rounds each) every trial preparing its own, as the worker did before.
      // The slots this table runs (tabularSlotRuns: gbdt_small on small tables, sampled settings from
      // 100 validation rows); with the shared preparation each trial runs as the worker's does
      // (trainTabularTrial: rungs against the earlier GBDT trials), the per-trial variant as before.
      const plan = tabularSearchPlan('auto', 'auto', 1).filter((slot, i) =>
        tabularSlotRuns(slot, i, { rows: train.length, validationRows: valid.length }),
      );
      const job = async (share: boolean): Promise<[number, string[]]> => {
        const trialCpu: string[] = [];
        let total = 0;
        let prepared: ReturnType<typeof prepareTabular> | undefined;
        if (share) {
          const [p, s] = cpu(() => prepareTabular({ ...opts, seed: 1 }));
          prepared = p;
          total += s;
          trialCpu.push(`prepare ${s.toFixed(3)}`);
        }
        const rungs = new GbdtRungs();
        for (const slot of plan) {
          const [, s] = await cpuAsync(() =>
            prepared
              ? trainTabularTrial({ ...opts, seed: 1 }, prepared, slot, rungs)
              : trainTabular({
                  ...opts,
                  seed: 1,
                  candidates: [slot.base],
                  ...(slot.gbdt ? { gbdt: slot.gbdt } : {}),
                }),
          );
          total += s;
          trialCpu.push(`${slot.name} ${s.toFixed(3)}`);
        }
        return [total, trialCpu];
      };
      const shared: number[] = [];
      const own: number[] = [];
      for (let r = 0; r < 3; r++) {
        const [ts, ps] = await job(true);
        shared.push(ts);
        const [to, po] = await job(false);
        own.push(to);
        console.log(
          `   job trials (mode auto) round ${r + 1}: shared prepare ${ts.toFixed(3)} CPU s (${ps.join(' | ')}); per-trial prepare ${to.toFixed(3)} (${po.join(' | ')})`,
        );
      }
      console.log(
        `   job trials (mode auto), median of 3: shared prepare ${median(shared).toFixed(3)} CPU s, per-trial prepare ${median(own).toFixed(3)}`,
      );
    }
    const K = task === 'classification' ? classes.length : 0;
    const ytr = encodeTarget(train, target, task, classes);
    const yva = encodeTarget(valid, target, task, classes);
    const cols = t.columns;
    const phases: Record<string, number[]> = {};
    const add = (k: string, v: number) => (phases[k] ??= []).push(v);
    for (let r = 0; r < repeats; r++) {
      const [pre, tPre] = cpu(() =>
        fitPreprocessor(train, { columns: cols, types, target: ytr, numClasses: K, seed: 1 }),
      );
      add('fitPreprocessor', tPre);
      const [xtr, tX] = cpu(() => transformTrainingRows(pre, train, { target: ytr, numClasses: K, seed: 1 }));
      add('transformTrain', tX);
      const [xva, tV] = cpu(() => transformRows(pre, valid));
      add('transformValid', tV);
      const d = pre.features.length;
      const m = { x: xtr, rows: train.length, features: d };
      const vm = { m: { x: xva, rows: valid.length, features: d }, target: yva };
      const [, tL] = cpu(() =>
        trainLinear(
          m,
          ytr,
          { objective: task === 'regression' ? 'regression' : 'classification', numClasses: K },
          vm,
        ),
      );
      add('linear', tL);
      const objective = task === 'regression' ? 'regression' : K === 2 ? 'binary' : 'multiclass';
      const [g, tG] = cpu(() =>
        trainGbdt(m, ytr, { objective, numClasses: K, maxIterations: 100, earlyStoppingRounds: 10 }, vm),
      );
      add(`gbdt(${g.iterations})`, tG);
      const [g2, tS] = cpu(() =>
        trainGbdt(
          m,
          ytr,
          {
            objective,
            numClasses: K,
            maxIterations: 100,
            earlyStoppingRounds: 10,
            maxLeaves: 15,
            minSamplesLeaf: 5,
            l2: 1,
          },
          vm,
        ),
      );
      add(`gbdt_small(${g2.iterations})`, tS);
    }
    console.log(
      `${ds.name}: whole cold ${whole[0].toFixed(3)} warm ${median(whole.slice(1)).toFixed(3)} cpu-s | ${chosen}`,
    );
    console.log(
      '   ' +
        Object.entries(phases)
          .map(([k, v]) => `${k} ${median(v).toFixed(3)}`)
          .join(' | '),
    );
  }
}

void main();
