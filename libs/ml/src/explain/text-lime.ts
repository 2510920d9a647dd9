import { Rng } from '../train/rng';
import { weightedRidge } from './ridge';

/**
 * A word occurrence in the original text: its characters `[start, end)` (UTF-16 offsets, as JS
 * strings index). Words are runs of letters, marks and digits of any script (inner apostrophes kept),
 * or one emoji; the same rule, case-folded, groups occurrences into features.
 */
const WORD =
  /\p{Extended_Pictographic}(?:\uFE0F|\p{Emoji_Modifier}|\u200D\p{Extended_Pictographic}\uFE0F?)*|[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*/gu;

export interface TextLimeOptions {
  /** Class index to explain. Default: the predicted class. */
  target?: number;
  /** Perturbed texts (the first is the text itself). Default 256. */
  samples?: number;
  /** Most distinct words explained; beyond them (rarest last, then latest) words stay in every sample. Default 100. */
  maxWords?: number;
  /** Kernel width on 100 x the cosine distance to the full text. Default 25 (lime's text default). */
  kernelWidth?: number;
  /** Ridge penalty. Default 1 (lime's default). */
  ridge?: number;
  seed?: number;
}

export interface TextLimeWord {
  /** The word as case-folded (all its occurrences are removed together). */
  word: string;
  /** The change of p(target) when the word is present (the local linear model's coefficient). */
  weight: number;
  /** Where it occurs in the text: `[start, end)` UTF-16 offsets. */
  spans: Array<[number, number]>;
}

export interface TextLimeResult {
  method: 'lime';
  target: number;
  /** p(target) for the whole text. */
  probability: number;
  /** Distinct words explained, by |weight|, largest first. */
  words: TextLimeWord[];
  intercept: number;
  /** Weighted R² of the local linear model. */
  score: number;
  /** Texts the model classified. */
  modelTexts: number;
  ms: number;
}

/**
 * The model as text LIME sees it: class probabilities for a batch of texts, row-major
 * [texts x classes] (libs/ml TextClassifier.predictProba).
 */
export type TextProbabilities = (texts: readonly string[]) => Float32Array | Float64Array;

/** The word occurrences of `text`, grouped by case-folded word, in order of first occurrence. */
export function textWords(text: string): Array<{ word: string; spans: Array<[number, number]> }> {
  const byWord = new Map<string, Array<[number, number]>>();
  for (const m of text.matchAll(WORD)) {
    const word = m[0].normalize('NFKC').toLowerCase();
    const spans = byWord.get(word) ?? [];
    spans.push([m.index, m.index + m[0].length]);
    byWord.set(word, spans);
  }
  return [...byWord].map(([word, spans]) => ({ word, spans }));
}

/** `text` with the given spans (sorted by start, disjoint) cut out, each replaced by a space. */
function cut(text: string, spans: Array<[number, number]>): string {
  let out = '';
  let at = 0;
  for (const [s, e] of spans) {
    out += text.slice(at, s) + ' ';
    at = e;
  }
  return out + text.slice(at);
}

/**
 * LIME for text (Ribeiro, Singh & Guestrin 2016, as the `lime` package's LimeTextExplainer with
 * bow=true): each perturbed text removes every occurrence of a random set of distinct words (how many
 * is drawn uniformly from 1..d, then which ones), the model gives p(target) for each, and a weighted
 * ridge regression of p on the presence vector (weights sqrt(exp(-d²/w²)), d = 100 x the cosine
 * distance to the all-present vector) gives each word its weight. Pure TypeScript: the model is any
 * function from texts to class probabilities.
 */
export function limeText(
  predictProba: TextProbabilities,
  numClasses: number,
  text: string,
  options: TextLimeOptions = {},
): TextLimeResult {
  const started = Date.now();
  const samples = Math.max(2, options.samples ?? 256);
  const kernelWidth = options.kernelWidth ?? 25;
  const maxWords = Math.max(1, options.maxWords ?? 100);
  const all = textWords(text);
  // The most frequent words first (ties: first occurrence), capped: the rest stay in every sample.
  const words = all
    .map((w, i) => ({ ...w, i }))
    .sort((a, b) => b.spans.length - a.spans.length || a.i - b.i)
    .slice(0, maxWords);
  const d = words.length;
  const full = predictProba([text]);
  let target = options.target ?? 0;
  if (options.target === undefined)
    for (let c = 1; c < numClasses; c++) if (full[c] > full[target]) target = c;
  if (!Number.isInteger(target) || target < 0 || target >= numClasses)
    throw new RangeError(`target must be a class index in 0..${numClasses - 1} (got ${target})`);
  if (d === 0)
    return {
      method: 'lime',
      target,
      probability: full[target],
      words: [],
      intercept: full[target],
      score: 1,
      modelTexts: 1,
      ms: Date.now() - started,
    };
  const rng = new Rng(options.seed ?? 0);
  const masks = new Float32Array(samples * d).fill(1);
  const texts: string[] = [text];
  const order = Array.from({ length: d }, (_, j) => j);
  for (let i = 1; i < samples; i++) {
    const remove = 1 + Math.floor(rng.next() * d);
    // Partial Fisher-Yates: the first `remove` of a shuffled order are removed.
    for (let j = 0; j < remove; j++) {
      const k = j + Math.floor(rng.next() * (d - j));
      [order[j], order[k]] = [order[k], order[j]];
      masks[i * d + order[j]] = 0;
    }
    const spans = order
      .slice(0, remove)
      .flatMap((j) => words[j].spans)
      .sort((a, b) => a[0] - b[0]);
    texts.push(cut(text, spans));
  }
  // Sample 0 is the text itself, already classified.
  const probs = predictProba(texts.slice(1));
  const ys = new Float64Array(samples);
  const weights = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    ys[i] = i === 0 ? full[target] : probs[(i - 1) * numClasses + target];
    let on = 0;
    for (let j = 0; j < d; j++) on += masks[i * d + j];
    const distance = 100 * (on === 0 ? 1 : 1 - on / Math.sqrt(on * d));
    weights[i] = Math.sqrt(Math.exp(-(distance * distance) / (kernelWidth * kernelWidth)));
  }
  const fit = weightedRidge(masks, samples, d, ys, weights, options.ridge ?? 1);
  const explained = words
    .map((w, j) => ({ word: w.word, weight: fit.coef[j], spans: w.spans }))
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.word.localeCompare(b.word));
  return {
    method: 'lime',
    target,
    probability: ys[0],
    words: explained,
    intercept: fit.intercept,
    score: fit.r2,
    modelTexts: samples,
    ms: Date.now() - started,
  };
}
