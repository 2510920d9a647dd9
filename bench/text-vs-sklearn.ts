/**
 * Text classification against scikit-learn on real data, side by side in one run.
 *
 * For each dataset (bench/text/fortune-datasets.ts: Debian fortune packages), the rows go through the
 * platform's own ingestion (libs/datasets: CSV, dedup, stratified 80/10/10 split, seed 42); the same
 * train/validation/test texts then go to
 *   - ours: libs/ml `trainTextClassifier` with the worker's default linear candidates (hashed word
 *     n-grams + char_wb 2-5-grams with punctuation, TF-IDF, linear softmax, AdaGrad SGD; candidates
 *     and epochs chosen on validation), evaluated once on test with `buildReport`; the exported
 *     artifact's size (text-model.json + text-weights.bin) is recorded;
 *   - scikit-learn (Debian python3-sklearn): TfidfVectorizer + LogisticRegression, a 12-config grid
 *     (words / words+char_wb 2-5, C in 1/10/100, class_weight none/balanced) chosen on validation.
 * The peer process starts first and runs beside ours (each side's CPU seconds are its own process's).
 * Training time = the whole search on each side (featurizing included), on the same machine: wall
 * clock and CPU seconds of the process (the machine is shared; CPU time is less sensitive to its load).
 * The peer runs with one BLAS/OpenMP thread, as ours runs on one thread. Ours is written to
 * `text-vs-sklearn.<dataset>.ours-partial.json` as soon as it ends, the full result when the peer ends.
 *
 * Usage: nice npx tsx bench/text-vs-sklearn.ts [--only fortunes-topics] [--sklearn-grid=small|one] [--with-cnn]
 *   -> bench/results/text-vs-sklearn[.<dataset>].json. `--sklearn-grid=small`: scikit-learn tries C = 10 only,
 *   i.e. the same four candidates as ours (words / words+chars x balanced / unweighted), not 12;
 *   `--sklearn-grid=one`: its first configuration only (words+chars, C = 10, balanced).
 *   `--with-cnn`: ours also trains the text CNN candidate (as the job's auto/balanced/best modes do).
 * Needs: apt-get install -y python3-sklearn fortunes fortunes-de fortunes-es fortunes-it fortunes-br
 *        fortunes-pl fortunes-cs fortunes-ru fortunes-zh
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  bufferSource,
  ingest,
  MemoryShardStore,
  readTextSplit,
  type RecordShardIndex,
} from '../libs/datasets/src';
import { buildReport } from '../libs/ml/src/eval';
import { InMemoryArtifactStore } from '../libs/ml/src/export/memory-artifact-store';
import {
  DEFAULT_TEXT_CANDIDATES,
  exportTextClassifier,
  TEXT_CNN_CANDIDATE,
  trainTextClassifier,
} from '../libs/ml/src/text';
import { DATASETS, toCsv } from './text/fortune-datasets';

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

async function runDataset(name: string) {
  const spec = DATASETS[name];
  const rows = spec.build();
  const csv = Buffer.from(toCsv(rows), 'utf8');
  const store = new MemoryShardStore();
  const ingested = await ingest(bufferSource(csv, `${name}.csv`, 'text/csv'), {}, store);
  const index = ingested.index as RecordShardIndex;
  const [train, validation, test] = await Promise.all(
    (['train', 'validation', 'test'] as const).map((s) => readTextSplit(store, index, s)),
  );
  log(
    `${name}: ${index.labels.length} classes, train ${train.texts.length}, validation ${validation.texts.length}, test ${test.texts.length}`,
  );

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'text-bench-'));
  const splitsFile = path.join(tmp, 'splits.json');
  const plain = (s: typeof train) => ({ texts: s.texts, labels: Array.from(s.labels) });
  fs.writeFileSync(
    splitsFile,
    JSON.stringify({ train: plain(train), validation: plain(validation), test: plain(test) }),
  );

  // The peer starts first and runs beside ours (two processes on the shared machine): each side's
  // CPU seconds are its own process's, so running them at once saves wall time without mixing them.
  const load2 = os.loadavg()[0];
  const gridArg = process.argv.find((a) => a.startsWith('--sklearn-grid='));
  const grid = gridArg ? [`--grid=${gridArg.slice('--sklearn-grid='.length)}`] : [];
  const peer = spawn(
    '/usr/bin/python3',
    [path.join(__dirname, 'text', 'sklearn_peer.py'), splitsFile, ...grid],
    {
      // each finished trial is logged on stderr as it ends
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
    },
  );
  let peerOut = '';
  peer.stdout.setEncoding('utf8');
  peer.stdout.on('data', (chunk: string) => (peerOut += chunk));
  const peerDone = new Promise<number | null>((resolve) => peer.on('close', (code) => resolve(code)));

  const load1 = os.loadavg()[0];
  const cpu0 = process.cpuUsage();
  const candidates = process.argv.includes('--with-cnn')
    ? [...DEFAULT_TEXT_CANDIDATES, TEXT_CNN_CANDIDATE]
    : DEFAULT_TEXT_CANDIDATES;
  const ours = await trainTextClassifier(train, validation, {
    classNames: index.labels,
    seed: 1,
    candidates,
    onEpoch: (l) => {
      log(
        `  ours: ${l.candidate} step ${l.epoch + 1}: val acc ${l.valAccuracy.toFixed(4)} macro-F1 ${l.valMacroF1.toFixed(4)} (${l.elapsed.toFixed(0)} s)`,
      );
    },
  });
  const cpu = process.cpuUsage(cpu0);
  const oursCpuSeconds = (cpu.user + cpu.system) / 1e6;
  const probs = ours.classifier.predictProba(test.texts);
  const report = buildReport(
    { numClasses: index.labels.length, probs, labels: test.labels },
    { classNames: index.labels },
  );
  const writer = new InMemoryArtifactStore();
  const manifest = await exportTextClassifier(ours.classifier, writer, 'model', { metrics: {} });
  const artifactBytes = manifest.files.reduce((sum, f) => sum + f.size, 0);
  log(
    `  ours: ${ours.candidate.name} step ${ours.bestEpoch + 1}, test acc ${report.accuracy.toFixed(4)} macro-F1 ${report.macro.f1.toFixed(4)}, ${ours.seconds.toFixed(2)} s (${oursCpuSeconds.toFixed(2)} CPU s), artifact ${(artifactBytes / 1e6).toFixed(1)} MB`,
  );

  const oursResult = {
    chosen: ours.candidate.name,
    bestEpoch: ours.bestEpoch + 1,
    valAccuracy: r4(ours.valAccuracy),
    valMacroF1: r4(ours.valMacroF1),
    testAccuracy: r4(report.accuracy),
    testMacroF1: r4(report.macro.f1),
    trainSeconds: r4(ours.seconds),
    trainCpuSeconds: r4(oursCpuSeconds),
    algorithm: ours.classifier.algorithm,
    features: ours.trials.find((t) => t.candidate === ours.candidate.name)?.features,
    modelBytes: ours.classifier.bytes,
    artifactBytes,
    trials: ours.trials.map((t) => ({
      ...t,
      seconds: r4(t.seconds),
      valAccuracy: r4(t.valAccuracy),
      valMacroF1: r4(t.valMacroF1),
    })),
    loadavg1Before: load1,
  };
  // Ours is written now, the peer's side when it ends (on a loaded machine it can take far longer).
  const partial = path.join(__dirname, 'results', `text-vs-sklearn.${name}.ours-partial.json`);
  fs.mkdirSync(path.dirname(partial), { recursive: true });
  fs.writeFileSync(
    partial,
    JSON.stringify(
      { dataset: name, at: new Date().toISOString(), ours: oursResult, sklearn: 'running' },
      null,
      2,
    ) + '\n',
  );
  log(`  wrote ${partial} (scikit-learn still running)`);

  const status = await peerDone;
  fs.rmSync(tmp, { recursive: true, force: true });
  let sklearn: Record<string, unknown> & {
    testAccuracy?: number;
    testMacroF1?: number;
    searchSeconds?: number;
    searchCpuSeconds?: number;
  };
  if (status !== 0) {
    log(`  sklearn failed with status ${String(status)}`);
    sklearn = { absent: `exit status ${String(status)}` };
  } else {
    sklearn = JSON.parse(peerOut) as typeof sklearn;
    log(
      `  sklearn: ${String(sklearn.best)}, test acc ${sklearn.testAccuracy?.toFixed(4)} macro-F1 ${sklearn.testMacroF1?.toFixed(4)}, search ${sklearn.searchSeconds?.toFixed(2)} s (${sklearn.searchCpuSeconds?.toFixed(2)} CPU s)`,
    );
  }
  return {
    dataset: name,
    source: spec.source,
    licence: spec.licence,
    classes: index.labels.length,
    samples: { train: train.texts.length, validation: validation.texts.length, test: test.texts.length },
    imbalanceRatio: ingested.report.imbalanceRatio,
    ours: oursResult,
    sklearn: { ...sklearn, loadavg1Before: load2 },
    ...(sklearn.testAccuracy !== undefined && sklearn.testMacroF1 !== undefined && sklearn.searchSeconds
      ? {
          compare: {
            accuracyPoints: r4((report.accuracy - sklearn.testAccuracy) * 100),
            macroF1Points: r4((report.macro.f1 - sklearn.testMacroF1) * 100),
            trainTimeRatio: r4(ours.seconds / sklearn.searchSeconds),
            ...(sklearn.searchCpuSeconds
              ? { trainCpuTimeRatio: r4(oursCpuSeconds / sklearn.searchCpuSeconds) }
              : {}),
          },
        }
      : {}),
  };
}

async function main() {
  const only = process.argv.indexOf('--only');
  const names = only >= 0 ? [process.argv[only + 1]] : Object.keys(DATASETS);
  const results = [];
  for (const name of names) results.push(await runDataset(name));
  const out = {
    bench: 'text-vs-sklearn',
    at: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadavg: os.loadavg(),
    results,
  };
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, only >= 0 ? `text-vs-sklearn.${names[0]}.json` : 'text-vs-sklearn.json');
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  log(`wrote ${file}`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
