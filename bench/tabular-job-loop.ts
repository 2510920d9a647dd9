/**
 * Diagnostic: a default tabular job (mode auto) on one table, `--jobs` times in a row in one process,
 * each job's CPU seconds and per trial; with --trace-gc or --cpu-prof for where the time goes.
 *
 *   nice node -r tsx/cjs bench/tabular-job-loop.ts --only fair_affairs [--jobs 10] [--warm-up]
 */
import { GbdtRungs, prepareTabular, warmUpTabular } from '../libs/ml/src';
import {
  tabularSearchPlan,
  tabularSlotRuns,
  trainTabularTrial,
} from '../apps/worker/src/training/tabular-plan';
import { datasets, productTable, searchOptions } from './tabular-data';

const arg = (name: string, dflt: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt;
const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

async function main(): Promise<void> {
  if (process.argv.includes('--warm-up')) await warmUpTabular();
  const ds = datasets().find((d) => d.name === arg('--only', 'fair_affairs'));
  if (!ds || 'skipped' in ds) throw new Error('no such table');
  const t = await productTable(ds);
  const common = searchOptions(t, 1);
  for (let j = 0; j < Number(arg('--jobs', '10')); j++) {
    const c0 = cpuNow();
    const prepared = prepareTabular(common);
    const rungs = new GbdtRungs();
    const parts: string[] = [`prepare ${(cpuNow() - c0).toFixed(3)}`];
    for (const [i, slot] of tabularSearchPlan('auto', 'auto', 1).entries()) {
      if (!tabularSlotRuns(slot, i, { rows: t.train.length, validationRows: t.validation.length })) continue;
      const s0 = cpuNow();
      const r = await trainTabularTrial(common, prepared, slot, rungs);
      parts.push(
        `${slot.name}${r.chosen.stoppedAtRung ? `@${r.chosen.stoppedAtRung}` : ''} ${(cpuNow() - s0).toFixed(3)}`,
      );
    }
    console.log(`job ${j + 1}: ${(cpuNow() - c0).toFixed(3)} CPU s (${parts.join(' | ')})`);
  }
}

void main();
