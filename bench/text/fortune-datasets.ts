/**
 * Real text classification datasets built from Debian's fortune cookie packages (read from
 * /usr/share/games/fortunes after `apt-get install fortunes fortunes-de ...`):
 *
 * - `fortunes-topics`: English fortunes labelled by the file they ship in (computers, food, law,
 *   politics, science, ...) from Debian `fortunes` (BSD fortune-mod, BSD licence): topic
 *   classification, 30+ imbalanced classes;
 * - `fortunes-languages`: language identification over 10 languages from `fortunes` (en, BSD),
 *   `fortunes-de` (GPL-2+), `fortunes-es` (texts public domain), `fortunes-it` (public domain),
 *   `fortunes-br` (pt, GPL), `fortunes-pl` (GPL-2+), `fortunes-cs` (cs and sk, GPL), `fortunes-ru`
 *   (GPL-2) and `fortunes-zh` (zh, GPL-3+); at most 600 fortunes per language, each cut to its first
 *   200 characters (short texts make the task harder: Czech vs Slovak, Spanish vs Portuguese).
 *
 * A fortune file is a list of texts separated by lines holding a single `%`; old files underline
 * with backspaces ("overstriking"), which is removed here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { accuracy, classificationMetrics, confusionMatrix } from '../../libs/ml/src/eval/metrics';
import type { SparseVector } from '../../libs/ml/src/text/features';
import type { Rng } from '../../libs/ml/src/train/rng';
import {
  bufferSource,
  ingest,
  MemoryShardStore,
  readTextSplit,
  type RecordShardIndex,
} from '../../libs/datasets/src';

export const FORTUNES_DIR = '/usr/share/games/fortunes';

export interface LabelledText {
  text: string;
  label: string;
}

const BACKSPACE = String.fromCharCode(8);
/** A character followed by a backspace (old files underline or embolden by overstriking). */
const OVERSTRIKE = new RegExp(`[^\\n]${BACKSPACE}`, 'g');

export function readFortuneFile(file: string): string[] {
  const raw = fs.readFileSync(file, 'utf8');
  return raw
    .split(/^%\s*$/m)
    .map((t) => t.replace(OVERSTRIKE, '').replaceAll(BACKSPACE, '').replace(/\s+/g, ' ').trim())
    .filter((t) => t.length >= 10);
}

/** Every fortune file of a directory (not the .dat indexes, .u8 copies or links). */
function fortuneFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => !f.endsWith('.dat') && !f.endsWith('.u8'))
    .map((f) => path.join(dir, f))
    .filter((f) => {
      const st = fs.lstatSync(f);
      return st.isFile();
    });
}

/** The English files of Debian `fortunes` used as topics (at least 100 fortunes, not ASCII art). */
export const TOPIC_FILES = [
  'computers',
  'cookie',
  'definitions',
  'drugs',
  'education',
  'ethnic',
  'food',
  'fortunes',
  'humorists',
  'kids',
  'knghtbrd',
  'law',
  'linux',
  'linuxcookie',
  'love',
  'men-women',
  'miscellaneous',
  'people',
  'perl',
  'platitudes',
  'politics',
  'riddles',
  'science',
  'songs-poems',
  'sports',
  'startrek',
  'wisdom',
  'work',
  'zippy',
];

export function fortunesTopics(): LabelledText[] {
  const out: LabelledText[] = [];
  for (const topic of TOPIC_FILES) {
    const file = path.join(FORTUNES_DIR, topic);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: apt-get install -y fortunes`);
    for (const text of readFortuneFile(file)) out.push({ text, label: topic });
  }
  return out;
}

const LANGUAGE_SOURCES: Record<string, { package: string; files: () => string[] }> = {
  en: { package: 'fortunes', files: () => TOPIC_FILES.map((f) => path.join(FORTUNES_DIR, f)) },
  de: { package: 'fortunes-de', files: () => fortuneFiles(path.join(FORTUNES_DIR, 'de')) },
  es: { package: 'fortunes-es', files: () => fortuneFiles(path.join(FORTUNES_DIR, 'es')) },
  it: { package: 'fortunes-it', files: () => fortuneFiles(path.join(FORTUNES_DIR, 'it')) },
  pt: { package: 'fortunes-br', files: () => [path.join(FORTUNES_DIR, 'brasil')] },
  pl: { package: 'fortunes-pl', files: () => fortuneFiles(path.join(FORTUNES_DIR, 'pl')) },
  cs: {
    package: 'fortunes-cs',
    files: () => fortuneFiles(path.join(FORTUNES_DIR, 'cs')).filter((f) => !f.endsWith('klasik-sk')),
  },
  sk: { package: 'fortunes-cs', files: () => [path.join(FORTUNES_DIR, 'cs', 'klasik-sk')] },
  ru: { package: 'fortunes-ru', files: () => fortuneFiles(path.join(FORTUNES_DIR, 'ru')) },
  zh: {
    package: 'fortunes-zh',
    files: () => ['chinese', 'tang300', 'song100'].map((f) => path.join(FORTUNES_DIR, f)),
  },
};

/** Deterministic pick of `n` items (every k-th), so the same texts are chosen on every machine. */
function spread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  const step = items.length / n;
  return Array.from({ length: n }, (_, i) => items[Math.floor(i * step)]);
}

export function fortunesLanguages(perLanguage = 600, maxChars = 200): LabelledText[] {
  const out: LabelledText[] = [];
  for (const [lang, src] of Object.entries(LANGUAGE_SOURCES)) {
    const files = src.files();
    const texts: string[] = [];
    for (const f of files) {
      if (!fs.existsSync(f)) throw new Error(`${f} is missing: apt-get install -y ${src.package}`);
      try {
        texts.push(...readFortuneFile(f));
      } catch {
        // a file that is not UTF-8 text is skipped
      }
    }
    // Drop fortunes that are mostly not letters (ASCII art, code).
    const clean = texts.filter((t) => (t.match(/\p{L}/gu)?.length ?? 0) > t.length * 0.5);
    for (const t of spread(clean, perLanguage))
      out.push({ text: Array.from(t).slice(0, maxChars).join(''), label: lang });
  }
  return out;
}

export const DATASETS: Record<string, { build: () => LabelledText[]; source: string; licence: string }> = {
  'fortunes-topics': {
    build: fortunesTopics,
    source: 'Debian package `fortunes` (fortune-mod data files), one class per file',
    licence: 'BSD (fortune-mod)',
  },
  'fortunes-languages': {
    build: () => fortunesLanguages(),
    source:
      'Debian packages fortunes (en), fortunes-de, fortunes-es, fortunes-it, fortunes-br (pt), fortunes-pl, fortunes-cs (cs, sk), fortunes-ru, fortunes-zh',
    licence: 'BSD (en); GPL-2+ (de, pl, ru); public domain texts (es, it); GPL (pt, cs, sk); GPL-3+ (zh)',
  },
};

/** A CSV (text,label) of the rows, RFC 4180 quoting. */
export function toCsv(rows: readonly LabelledText[]): string {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return ['text,label', ...rows.map((r) => `${q(r.text)},${q(r.label)}`)].join('\n') + '\n';
}

/**
 * Dataset `name` ingested as the platform ingests a CSV upload (its seeded splits), and its train and
 * validation splits: what the validation-only tuning scripts read (the test split is not).
 */
export async function trainAndValidation(name: string) {
  const store = new MemoryShardStore();
  const ing = await ingest(
    bufferSource(Buffer.from(toCsv(DATASETS[name].build())), 'x.csv', 'text/csv'),
    {},
    store,
  );
  const index = ing.index as RecordShardIndex;
  const [train, val] = await Promise.all(
    (['train', 'validation'] as const).map((s) => readTextSplit(store, index, s)),
  );
  return { index, train, val };
}

/**
 * "accuracy/macro-F1" (4 decimals) on `labels` of the argmax of the `k` class scores `scoresInto`
 * writes for each text: the validation figure the tuning scripts print.
 */
export function validationScore(
  xv: readonly SparseVector[],
  labels: ArrayLike<number>,
  k: number,
  scoresInto: (x: SparseVector, row: Float32Array) => void,
): string {
  const pred = new Int32Array(xv.length);
  const row = new Float32Array(k);
  xv.forEach((x, i) => {
    scoresInto(x, row);
    let b = 0;
    for (let c = 1; c < k; c++) if (row[c] > row[b]) b = c;
    pred[i] = b;
  });
  const cm = confusionMatrix(labels, pred, k);
  return `${accuracy(labels, pred).toFixed(4)}/${classificationMetrics(cm).macro.f1.toFixed(4)}`;
}

/** One seeded Fisher-Yates shuffle of `order` in place (an SGD epoch's sample order). */
export function shuffleOrder(order: Uint32Array, rng: Rng): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}
