import { z } from 'zod';
import { normalizeText, tokenizeNormalized, tokenizerConfigSchema } from './tokenize';

/**
 * Hashed bag-of-n-grams features (the "hashing trick", as in fastText and Vowpal Wabbit): word
 * n-grams up to `wordNgrams` and character n-grams of `charNgrams` lengths taken inside each word
 * with `<`/`>` boundary marks (scikit-learn's `char_wb`; FNV-1a over the n-gram's code point values),
 * hashed with 32-bit FNV-1a into
 * 2^`hashBits` buckets. Values are sublinear term frequencies (1 + ln tf), optionally times an IDF per
 * bucket, and the vector is L2-normalized.
 */
export const featureConfigSchema = z.object({
  version: z.literal(1),
  tokenizer: tokenizerConfigSchema,
  hashBits: z.number().int().min(10).max(26),
  /** Longest word n-gram (1 = unigrams only). */
  wordNgrams: z.number().int().min(0).max(3),
  /** Shortest and longest character n-gram; [0, 0] = none. */
  charNgrams: z.tuple([z.number().int().min(0).max(8), z.number().int().min(0).max(8)]),
  sublinearTf: z.boolean(),
  idf: z.boolean(),
  /**
   * Word and character n-grams in separate halves of the buckets (words below 2^(hashBits-1),
   * characters above), each half L2-normalized on its own, as scikit-learn's FeatureUnion of a word
   * and a char_wb TfidfVectorizer does: the many character n-grams of a text then do not drown its
   * words. Absent (older models): one L2 norm over all buckets.
   */
  separateNorms: z.boolean().optional(),
  /**
   * What character n-grams run over: 'tokens' (absent: the tokenizer's words, without punctuation)
   * or 'whitespace' (the normalized text split at white space, punctuation kept, as scikit-learn's
   * char_wb analyzer does: "?", "!", quotes and ":" say something about a text's kind).
   */
  charSource: z.enum(['tokens', 'whitespace']).optional(),
});
export type FeatureConfig = z.infer<typeof featureConfigSchema>;

/** One document as a sparse vector: bucket ids (ascending, unique) and their values. */
export interface SparseVector {
  indices: Uint32Array;
  values: Float32Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over the UTF-16 code units of `s`, continuing from `h`. */
export function fnv1a(s: string, h = FNV_OFFSET): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

// Distinct seeds keep a word, a word bigram and a character n-gram with the same text apart.
const SEED_WORD = fnv1a('w\u0001');
const SEED_CHAR = fnv1a('c\u0001');

/**
 * Bucket ids with their counts for one text (before weighting). A word n-gram hashes its words'
 * UTF-16 code units with U+0001 between words, then its length; character n-grams run over code points.
 */
export function hashedCounts(text: string, config: FeatureConfig): Map<number, number> {
  const split = config.separateNorms === true;
  const mask = 2 ** (split ? config.hashBits - 1 : config.hashBits) - 1;
  const charHalf = split ? 2 ** (config.hashBits - 1) : 0;
  const counts = new Map<number, number>();
  const count = (b: number) => counts.set(b, (counts.get(b) ?? 0) + 1);
  const add = (h: number) => count((h & mask) >>> 0);
  const addChar = (h: number) => count(((h & mask) | charHalf) >>> 0);
  const normalized = normalizeText(text, config.tokenizer);
  const tokens = tokenizeNormalized(normalized, config.tokenizer);
  for (let n = 1; n <= config.wordNgrams; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      let h = SEED_WORD;
      for (let j = 0; j < n; j++) h = fnv1a(j === 0 ? tokens[i] : '\u0001' + tokens[i + j], h);
      add(fnv1a(String(n), h));
    }
  }
  const [lo, hi] = config.charNgrams;
  if (lo > 0 && hi >= lo) {
    const cps: number[] = [];
    const pieces =
      config.charSource === 'whitespace' ? normalized.split(/\s+/u).filter((p) => p !== '') : tokens;
    for (const t of pieces) {
      cps.length = 0;
      cps.push(0x3c); // '<'
      for (const ch of t) cps.push(ch.codePointAt(0)!);
      cps.push(0x3e); // '>'
      // Every n-gram of lo..hi code points, each hashed as FNV-1a over its code point values.
      for (let i = 0; i + lo <= cps.length; i++) {
        let h = SEED_CHAR;
        for (let j = 0; j < hi && i + j < cps.length; j++) {
          h = Math.imul(h ^ cps[i + j], FNV_PRIME);
          if (j + 1 >= lo) addChar(h >>> 0);
        }
      }
    }
  }
  return counts;
}

/** Bucket counts of one text, as parallel arrays sorted by bucket. */
export interface BucketCounts {
  buckets: Uint32Array;
  counts: Uint16Array;
}

export function countBuckets(text: string, config: FeatureConfig): BucketCounts {
  const m = hashedCounts(text, config);
  const buckets = Uint32Array.from(m.keys()).sort();
  const counts = new Uint16Array(buckets.length);
  for (let i = 0; i < buckets.length; i++) counts[i] = Math.min(65_535, m.get(buckets[i])!);
  return { buckets, counts };
}

/**
 * The features a model knows: the hashed buckets seen in its training texts (in at least `minDf` of
 * them), each with a column number and an IDF weight (scikit-learn's smooth IDF: ln((1+n)/(1+df)) + 1).
 * Buckets outside it are dropped from a text, as a fitted vocabulary drops unseen words.
 */
export class FeatureVocabulary {
  private readonly column: Map<number, number>;

  constructor(
    readonly buckets: Uint32Array,
    readonly idf: Float32Array,
  ) {
    if (buckets.length !== idf.length) throw new RangeError('buckets and idf differ in length');
    this.column = new Map();
    for (let i = 0; i < buckets.length; i++) this.column.set(buckets[i], i);
  }

  get size(): number {
    return this.buckets.length;
  }

  static fromTraining(docs: readonly BucketCounts[], minDf = 1): FeatureVocabulary {
    const df = new Map<number, number>();
    for (const d of docs) for (const b of d.buckets) df.set(b, (df.get(b) ?? 0) + 1);
    const kept = [...df.entries()].filter(([, n]) => n >= minDf).sort((a, b) => a[0] - b[0]);
    const n = docs.length;
    const buckets = Uint32Array.from(kept.map(([b]) => b));
    const idf = Float32Array.from(kept.map(([, d]) => Math.log((1 + n) / (1 + d)) + 1));
    return new FeatureVocabulary(buckets, idf);
  }

  /**
   * The weighted, L2-normalized vector of a text's counts over this vocabulary's columns (with
   * `separateNorms`, the word and the character halves normalized each on its own).
   */
  vectorize(doc: BucketCounts, config: FeatureConfig): SparseVector {
    const cols: number[] = [];
    const vals: number[] = [];
    const charHalf = config.separateNorms === true ? 2 ** (config.hashBits - 1) : Infinity;
    // Buckets ascend, so the word half (if split) comes first: norms[0] words, norms[1] characters.
    const norms = [0, 0];
    let firstChar = -1;
    for (let i = 0; i < doc.buckets.length; i++) {
      const col = this.column.get(doc.buckets[i]);
      if (col === undefined) continue;
      const c = doc.counts[i];
      let v = config.sublinearTf ? 1 + Math.log(c) : c;
      if (config.idf) v *= this.idf[col];
      const half = doc.buckets[i] >= charHalf ? 1 : 0;
      if (half === 1 && firstChar < 0) firstChar = cols.length;
      cols.push(col);
      vals.push(v);
      norms[half] += v * v;
    }
    const values = Float32Array.from(vals);
    const end = firstChar < 0 ? values.length : firstChar;
    const scale = (from: number, to: number, norm: number) => {
      if (norm <= 0) return;
      const inv = 1 / Math.sqrt(norm);
      for (let i = from; i < to; i++) values[i] *= inv;
    };
    scale(0, end, norms[0]);
    scale(end, values.length, norms[1]);
    return { indices: Uint32Array.from(cols), values };
  }
}
