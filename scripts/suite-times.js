#!/usr/bin/env node
// Rewrites test/suite-times.json (read by test/sequencer.js) from a full run's `jest --json` output:
//   npx jest --ci --maxWorkers=2 --json --outputFile=/tmp/jest.json; node scripts/suite-times.js /tmp/jest.json
// Lists the files that ran at least MIN_SECONDS (default 5) in that run with their run time
// (perfStats.end - start), rounded; the others are dropped from the list (the sequencer runs them
// after the listed ones). Files that run did not include keep their entry; files that no longer
// exist are dropped.
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const OUT = join(ROOT, 'test', 'suite-times.json');

const input = process.argv[2];
const MIN_SECONDS = Number(process.env.MIN_SECONDS ?? 5);
if (!input) {
  console.error('usage: node scripts/suite-times.js <jest --json output file>');
  process.exit(2);
}
const run = JSON.parse(readFileSync(input, 'utf8'));
const previous = existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')).seconds ?? {}) : {};
const seconds = { ...previous };
for (const r of run.testResults ?? []) {
  const file = relative(ROOT, r.name ?? r.testFilePath)
    .split('\\')
    .join('/');
  const perf = r.perfStats ?? { start: r.startTime, end: r.endTime };
  const s = (perf.end - perf.start) / 1000;
  if (!Number.isFinite(s)) continue;
  if (s >= MIN_SECONDS) seconds[file] = Math.round(s * 10) / 10;
  else delete seconds[file];
}
for (const file of Object.keys(seconds)) if (!existsSync(join(ROOT, file))) delete seconds[file];
const sorted = Object.fromEntries(Object.entries(seconds).sort(([, a], [, b]) => b - a));
writeFileSync(
  OUT,
  JSON.stringify(
    {
      about:
        'Seconds each slow test file takes: test/sequencer.js starts these first, slowest first. Rewrite with node scripts/suite-times.js <jest --json output>.',
      seconds: sorted,
    },
    null,
    2,
  ) + '\n',
);
console.log(`${OUT}: ${Object.keys(sorted).length} files`);
