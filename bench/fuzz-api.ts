/**
 * The long API fuzz run: the generators, oracle and runner of test/e2e/api-fuzz.e2e-spec.ts, with as
 * many requests per operation as asked, against a real platform (API, serving, worker from dist/).
 *
 *   npm run build && npx tsx bench/fuzz-api.ts --runs 5000            # a fresh random seed, printed
 *   npx tsx bench/fuzz-api.ts --seed 20261206 --only "POST /v1/jobs" --path 12:0:3   # replay a report's failure
 *
 * Options: --runs N (requests per operation, default 500), --seed S (default FUZZ_SEED or random),
 * --only TEXT (operations whose `METHOD /path` contains it), --path P (fast-check's replay path),
 * --shrink N (requests spent shrinking each failure, default 100). Writes bench/results/fuzz-api.json;
 * exits 1 when a request failed or a process is not ready at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPlatform } from '../test/support/platform';
import { formatFailure, formatReport, fuzz } from '../test/support/fuzz/runner';
import { fuzzWorld, platformHealth } from '../test/support/fuzz/setup';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string' },
      path: { type: 'string' },
      shrink: { type: 'string' },
    },
  });
  const seed = Number(values.seed ?? process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const runs = Number(values.runs ?? 500);
  if (!Number.isInteger(seed) || !Number.isInteger(runs) || runs < 1)
    throw new Error('--seed and --runs take integers');
  console.log(
    `API fuzz: seed ${seed}, ${runs} requests per operation${values.only ? `, only ${JSON.stringify(values.only)}` : ''}`,
  );
  const p = await startPlatform({}, { storage: 'fs' });
  try {
    const world = await fuzzWorld(p);
    const report = await fuzz({
      ...world,
      seed,
      runs,
      only: values.only,
      replayPath: values.path,
      shrinkBudget: values.shrink === undefined ? undefined : Number(values.shrink),
      log: (line) => console.log(line),
    });
    const health = await platformHealth(p);
    const ready = Object.values(health).every((s) => s === 200);
    console.log(`\n${formatReport(report)}\n\nreadiness at the end: ${JSON.stringify(health)}`);
    const out = join(__dirname, 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, 'fuzz-api.json'),
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          seed,
          runsPerOperation: runs,
          requests: report.requests,
          seconds: report.ms / 1000,
          requestsPerSecond: Math.round((report.requests / report.ms) * 1000 * 10) / 10,
          operations: report.operations,
          failures: report.failures.map((f) => formatFailure(f, seed)),
          readiness: health,
        },
        null,
        2,
      )}\n`,
    );
    return report.failures.length === 0 && ready ? 0 : 1;
  } finally {
    await p.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
