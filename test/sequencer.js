// Starts the known-slow test files first, slowest first, from the committed list
// test/suite-times.json (seconds per file, measured; `node scripts/suite-times.js` rewrites it).
// Jest's own sequencer orders by the durations in its cache, which a fresh clone (CI) does not have:
// it then falls back to file size, which says little about run time here (a short e2e spec that
// trains a model runs minutes, a long unit spec of pure logic a second), and a slow file started
// near the end keeps one worker busy alone while the other has nothing left to do.
// Order: files that failed in this machine's last run (jest's cache) first, as jest does; then the
// listed files, slowest first; then the others as jest's own sequencer orders them (cached
// durations, else file size).
const { readFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const TestSequencer = require('@jest/test-sequencer').default;

const ROOT = join(__dirname, '..');
const TIMES_FILE = join(__dirname, 'suite-times.json');

function readTimes() {
  try {
    return JSON.parse(readFileSync(TIMES_FILE, 'utf8')).seconds ?? {};
  } catch {
    return {};
  }
}

class SlowestFirstSequencer extends TestSequencer {
  sort(tests) {
    const times = readTimes();
    const seconds = (test) => times[relative(ROOT, test.path).split('\\').join('/')];
    const failed = tests.filter((t) => this.hasFailed(t));
    const rest = tests.filter((t) => !this.hasFailed(t));
    const listed = rest
      .filter((t) => seconds(t) !== undefined)
      .sort((a, b) => seconds(b) - seconds(a) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const unlisted = rest.filter((t) => seconds(t) === undefined);
    return [...super.sort(failed), ...listed, ...super.sort(unlisted)];
  }
}

module.exports = SlowestFirstSequencer;
