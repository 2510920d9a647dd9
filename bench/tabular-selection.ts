/**
 * How tabular candidates and a job's trials are chosen: per table (the product's ingestion and
 * split), every trial of a mode-`auto` job as the worker runs it (one trainTabular per trial, seed
 * 1), with its validation loss and that loss's standard error over the validation rows, and which
 * trial each rule chooses: the lowest validation loss (the rule before) or the one-standard-error
 * rule the product now applies (`libs/ml/src/tabular/selection.ts`). The decision uses validation numbers only; the test split is read once,
 * after every table's choices are made, to report the chosen trials' test scores.
 *
 * Then the job as the product now runs it (`tabularSlotRuns`: the sampled settings only from 100
 * validation rows; `trainTabularTrial`: GBDT trials stopped on rungs of iterations where they are
 * behind the earlier ones), with its trials, its choice (the one-standard-error rule) and its CPU
 * seconds, next to the unpruned plan's.
 *
 *   nice node -r tsx/cjs bench/tabular-selection.ts [--only breast_cancer]
 *   -> bench/results/tabular-selection.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  evaluateTabular,
  GbdtRungs,
  oneStandardErrorChoice,
  prepareTabular,
  SMALL_TABLE_ROWS,
  trainTabular,
  type TrainTabularResult,
} from '../libs/ml/src';
import {
  tabularSearchPlan,
  tabularSlotRuns,
  trainTabularTrial,
} from '../apps/worker/src/training/tabular-plan';
import { datasets, productTable, searchOptions, type ProductTable } from './tabular-data';

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : '';

interface Trial {
  name: string;
  validLoss: number;
  validLossSE: number;
  validScore: number;
  iterations?: number;
  cpuSeconds: number;
  stoppedAtRung?: number;
}

async function main(): Promise<void> {
  const tables: {
    t: ProductTable;
    trials: Trial[];
    results: TrainTabularResult[];
    job: Trial[];
    jobResults: TrainTabularResult[];
  }[] = [];
  for (const ds of datasets()) {
    if ('skipped' in ds || (only && ds.name !== only)) continue;
    const t = await productTable(ds);
    const trials: Trial[] = [];
    const results: TrainTabularResult[] = [];
    for (const slot of tabularSearchPlan('auto', 'auto', 1)) {
      if (slot.name === 'gbdt_small' && t.train.length > SMALL_TABLE_ROWS) continue;
      const c0 = process.cpuUsage();
      const r = await trainTabular({
        ...searchOptions(t, 1),
        candidates: [slot.base],
        ...(slot.gbdt ? { gbdt: slot.gbdt } : {}),
      });
      const c = process.cpuUsage(c0);
      results.push(r);
      trials.push({
        name: slot.name,
        validLoss: r.chosen.validLoss,
        validLossSE: r.chosen.validLossSE,
        validScore: r.chosen.validScore,
        ...(r.chosen.iterations !== undefined ? { iterations: r.chosen.iterations } : {}),
        cpuSeconds: (c.user + c.system) / 1e6,
      });
    }
    // The job as the worker now runs it: one preparation, the slots that run on this table, rungs.
    const job: Trial[] = [];
    const jobResults: TrainTabularResult[] = [];
    const common = searchOptions(t, 1);
    const prepared = prepareTabular(common);
    const rungs = new GbdtRungs();
    for (const [i, slot] of tabularSearchPlan('auto', 'auto', 1).entries()) {
      if (!tabularSlotRuns(slot, i, { rows: t.train.length, validationRows: t.validation.length })) continue;
      const c0 = process.cpuUsage();
      const r = await trainTabularTrial(common, prepared, slot, rungs);
      const c = process.cpuUsage(c0);
      jobResults.push(r);
      job.push({
        name: slot.name,
        validLoss: r.chosen.validLoss,
        validLossSE: r.chosen.validLossSE,
        validScore: r.chosen.validScore,
        ...(r.chosen.iterations !== undefined ? { iterations: r.chosen.iterations } : {}),
        ...(r.chosen.stoppedAtRung !== undefined ? { stoppedAtRung: r.chosen.stoppedAtRung } : {}),
        cpuSeconds: (c.user + c.system) / 1e6,
      });
    }
    tables.push({ t, trials, results, job, jobResults });
  }
  // Both rules decided on validation numbers above; test read once per chosen model below.
  const argmin = (xs: number[]) => xs.reduce((b, v, i) => (v < xs[b] ? i : b), 0);
  const out = tables.map(({ t, trials, results, job, jobResults }) => {
    const byValid = argmin(trials.map((x) => x.validLoss));
    const oneSE = (xs: Trial[]) =>
      oneStandardErrorChoice(
        xs.map((x) => ({
          family: x.name === 'linear' ? 'linear' : 'gbdt',
          loss: x.validLoss,
          lossSE: x.validLossSE,
        })),
      );
    const bySelection = oneSE(trials);
    const byJob = oneSE(job);
    const test = (i: number, rs = results) => {
      const e = evaluateTabular(rs[i].artifact, t.test);
      return e.regression ? { rmse: e.regression.rmse, r2: e.regression.r2 } : { accuracy: e.accuracy };
    };
    const row = {
      dataset: t.name,
      rows: { train: t.train.length, validation: t.validation.length, test: t.test.length },
      trials,
      chosenByValidLoss: { trial: trials[byValid].name, test: test(byValid) },
      chosenByOneSE: { trial: trials[bySelection].name, test: test(bySelection) },
      jobCpuSeconds: trials.reduce((s, x) => s + x.cpuSeconds, 0),
      /** The job as the product runs it now (slot rule, rungs); its trials' CPU seconds exclude the preparation. */
      productJob: {
        trials: job,
        chosen: { trial: job[byJob].name, validLoss: job[byJob].validLoss, test: test(byJob, jobResults) },
        trialsCpuSeconds: job.reduce((s, x) => s + x.cpuSeconds, 0),
      },
    };
    console.log(
      `${t.name}: ${trials.map((x) => `${x.name} ${x.validLoss.toFixed(4)}±${x.validLossSE.toFixed(4)}`).join(', ')}\n` +
        `   by validLoss: ${row.chosenByValidLoss.trial} ${JSON.stringify(row.chosenByValidLoss.test)}; ` +
        `by one-SE rule: ${row.chosenByOneSE.trial} ${JSON.stringify(row.chosenByOneSE.test)}; ` +
        `job ${row.jobCpuSeconds.toFixed(3)} CPU s\n` +
        `   product job: ${job.map((x) => `${x.name} ${x.validLoss.toFixed(4)}${x.stoppedAtRung ? `@${x.stoppedAtRung}` : ''}`).join(', ')}; ` +
        `chosen ${row.productJob.chosen.trial} ${JSON.stringify(row.productJob.chosen.test)}; trials ${row.productJob.trialsCpuSeconds.toFixed(3)} CPU s`,
    );
    return row;
  });
  if (!only) {
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      join(__dirname, 'results', 'tabular-selection.json'),
      JSON.stringify({ date: new Date().toISOString(), tables: out }, null, 2) + '\n',
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
