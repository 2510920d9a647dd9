import { z } from 'zod';
import { Rng } from '../train/rng';
import { fnv1a } from './features';
import { softmaxInPlace } from './linear-model';
import { classifyWith, type TextClassification, type TextModel } from './text-classifier';
import { normalizeText, tokenizeNormalized, tokenizerConfigSchema } from './tokenize';

/**
 * A convolutional text classifier (Kim 2014, "Convolutional Neural Networks for Sentence
 * Classification"), written on typed arrays so that it trains and predicts wherever Node runs:
 *
 * tokens (the Unicode tokenizer, hashed with FNV-1a into 2^hashBits buckets; buckets seen in training
 * get an embedding row, every other token shares the unknown row 0) -> embeddings [n x d] -> for each
 * filter width w, `filters` filters over windows of w tokens, ReLU, max over positions -> dropout ->
 * softmax layer.
 *
 * Training: per-sample gradients (the max-pool routes a filter's gradient to one window only, so
 * backpropagation is cheap next to the forward pass), Adam on the dense layers over mini-batches,
 * row-wise AdaGrad on the embedding rows a sample touches, per-class loss weights.
 */
export const textCnnConfigSchema = z.object({
  version: z.literal(1),
  tokenizer: tokenizerConfigSchema,
  hashBits: z.number().int().min(10).max(26),
  /** Tokens of a text beyond this many are dropped. */
  maxTokens: z.number().int().min(1).max(10_000),
  embeddingDim: z.number().int().min(2).max(512),
  /** Filter widths in tokens, e.g. [1, 2, 3]. */
  widths: z.array(z.number().int().min(1).max(10)).min(1).max(8),
  /** Filters per width. */
  filters: z.number().int().min(1).max(1024),
});
export type TextCnnConfig = z.infer<typeof textCnnConfigSchema>;

/** Token buckets that have an embedding row (row = position + 1; row 0 is every unknown token). */
export class TokenVocabulary {
  private readonly row: Map<number, number>;

  constructor(readonly buckets: Uint32Array) {
    this.row = new Map();
    for (let i = 0; i < buckets.length; i++) this.row.set(buckets[i], i + 1);
  }

  /** Rows of the embedding table (known buckets + the unknown row). */
  get rows(): number {
    return this.buckets.length + 1;
  }

  /** Keeps the buckets of tokens seen in at least `minCount` training texts. */
  static fromTraining(texts: readonly string[], config: TextCnnConfig, minCount = 1): TokenVocabulary {
    const df = new Map<number, number>();
    for (const t of texts) {
      const seen = new Set(tokenBuckets(t, config));
      for (const b of seen) df.set(b, (df.get(b) ?? 0) + 1);
    }
    const kept = [...df.entries()].filter(([, n]) => n >= minCount).map(([b]) => b);
    return new TokenVocabulary(Uint32Array.from(kept).sort());
  }

  /** Embedding rows of a text's tokens (at most maxTokens). */
  ids(text: string, config: TextCnnConfig): Int32Array {
    const buckets = tokenBuckets(text, config);
    const out = new Int32Array(buckets.length);
    for (let i = 0; i < buckets.length; i++) out[i] = this.row.get(buckets[i]) ?? 0;
    return out;
  }
}

const SEED_TOKEN = fnv1a('t\u0001');

/** The hashed bucket of each token of `text`, in order, at most maxTokens. */
export function tokenBuckets(text: string, config: TextCnnConfig): number[] {
  const mask = 2 ** config.hashBits - 1;
  const tokens = tokenizeNormalized(normalizeText(text, config.tokenizer), config.tokenizer);
  const n = Math.min(tokens.length, config.maxTokens);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = (fnv1a(tokens[i], SEED_TOKEN) & mask) >>> 0;
  return out;
}

/** The weights of a {@link TextCnn}. Conv weights of width w: [filters x (w * d)], row-major. */
export interface TextCnnWeights {
  embeddings: Float32Array;
  conv: Float32Array[];
  convBias: Float32Array[];
  out: Float32Array;
  outBias: Float32Array;
}

/** Scratch memory of one forward pass (reused across samples). */
interface Pass {
  x: Float32Array;
  rows: number;
  h: Float32Array;
  argmax: Int32Array;
  probs: Float32Array;
}

export class TextCnn {
  readonly hidden: number;

  constructor(
    readonly config: TextCnnConfig,
    readonly vocabRows: number,
    readonly numClasses: number,
    readonly weights: TextCnnWeights,
  ) {
    const d = config.embeddingDim;
    const f = config.filters;
    this.hidden = f * config.widths.length;
    const expect = (name: string, a: Float32Array, n: number) => {
      if (a.length !== n) throw new RangeError(`${name} has ${a.length} values, expected ${n}`);
    };
    expect('embeddings', weights.embeddings, vocabRows * d);
    if (weights.conv.length !== config.widths.length || weights.convBias.length !== config.widths.length)
      throw new RangeError('one conv layer per width');
    config.widths.forEach((w, i) => {
      expect(`conv${i}`, weights.conv[i], f * w * d);
      expect(`convBias${i}`, weights.convBias[i], f);
    });
    expect('out', weights.out, numClasses * this.hidden);
    expect('outBias', weights.outBias, numClasses);
  }

  /** Fresh weights: embeddings U(-0.1, 0.1), He-normal conv filters, Glorot-uniform output layer. */
  static init(config: TextCnnConfig, vocabRows: number, numClasses: number, rng: Rng): TextCnn {
    const d = config.embeddingDim;
    const f = config.filters;
    const uniform = (n: number, a: number) => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = (rng.next() * 2 - 1) * a;
      return out;
    };
    const normal = (n: number, sd: number) => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const u = Math.max(rng.next(), 1e-12);
        out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next()) * sd;
      }
      return out;
    };
    const hidden = f * config.widths.length;
    return new TextCnn(config, vocabRows, numClasses, {
      embeddings: uniform(vocabRows * d, 0.1),
      conv: config.widths.map((w) => normal(f * w * d, Math.sqrt(2 / (w * d)))),
      convBias: config.widths.map(() => new Float32Array(f)),
      out: uniform(numClasses * hidden, Math.sqrt(6 / (hidden + numClasses))),
      outBias: new Float32Array(numClasses),
    });
  }

  newPass(): Pass {
    return {
      x: new Float32Array(0),
      rows: 0,
      h: new Float32Array(this.hidden),
      argmax: new Int32Array(this.hidden),
      probs: new Float32Array(this.numClasses),
    };
  }

  /**
   * Class probabilities of one token sequence into `pass.probs`; `dropMask` (training) zeroes and
   * rescales hidden units.
   */
  forward(ids: Int32Array, pass: Pass, dropMask?: Float32Array): Float32Array {
    const { config, weights, hidden, numClasses: k } = this;
    const d = config.embeddingDim;
    const f = config.filters;
    const maxW = Math.max(...config.widths);
    // The sequence's embeddings, row after row; short texts are padded with zero rows to the widest filter.
    const rows = Math.max(ids.length, maxW);
    if (pass.x.length < rows * d) pass.x = new Float32Array(rows * d);
    const x = pass.x;
    x.fill(0, 0, rows * d);
    const emb = weights.embeddings;
    for (let t = 0; t < ids.length; t++) x.set(emb.subarray(ids[t] * d, ids[t] * d + d), t * d);
    pass.rows = rows;
    const h = pass.h;
    config.widths.forEach((w, wi) => {
      const wd = w * d;
      const conv = weights.conv[wi];
      const bias = weights.convBias[wi];
      const positions = rows - w + 1;
      for (let j = 0; j < f; j++) {
        const base = j * wd;
        let best = -Infinity;
        let at = 0;
        for (let t = 0; t < positions; t++) {
          const xo = t * d;
          let z = 0;
          for (let e = 0; e < wd; e++) z += conv[base + e] * x[xo + e];
          if (z > best) {
            best = z;
            at = t;
          }
        }
        const unit = wi * f + j;
        const v = best + bias[j];
        h[unit] = v > 0 ? v : 0;
        pass.argmax[unit] = at;
      }
    });
    if (dropMask) for (let u = 0; u < hidden; u++) h[u] *= dropMask[u];
    const probs = pass.probs;
    const out = weights.out;
    for (let c = 0; c < k; c++) {
      let z = weights.outBias[c];
      const row = c * hidden;
      for (let u = 0; u < hidden; u++) z += out[row + u] * h[u];
      probs[c] = z;
    }
    softmaxInPlace(probs);
    return probs;
  }

  /** Number of weights. */
  get params(): number {
    const w = this.weights;
    return (
      w.embeddings.length +
      w.conv.reduce((s, a) => s + a.length, 0) +
      w.convBias.reduce((s, a) => s + a.length, 0) +
      w.out.length +
      w.outBias.length
    );
  }

  copyWeights(): TextCnnWeights {
    const w = this.weights;
    return {
      embeddings: w.embeddings.slice(),
      conv: w.conv.map((a) => a.slice()),
      convBias: w.convBias.map((a) => a.slice()),
      out: w.out.slice(),
      outBias: w.outBias.slice(),
    };
  }
}

export interface TextCnnSgdOptions {
  /** Adam step size of the dense layers (default 0.002). */
  learningRate?: number;
  /** AdaGrad step size of the embedding rows (default 0.05). */
  embeddingLearningRate?: number;
  /** Samples per Adam step (default 16). */
  batchSize?: number;
  /** Dropout rate of the pooled features (default 0.5). */
  dropout?: number;
  classWeights?: Float32Array;
}

/** Trains a {@link TextCnn} in place; call `epoch` repeatedly. Deterministic for the Rng it is given. */
export class TextCnnTrainer {
  private readonly dense: Float32Array[];
  private readonly grads: Float32Array[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly embG2: Float64Array;
  private readonly pass: Pass;
  private readonly mask: Float32Array;
  private readonly dh: Float32Array;
  private readonly dx: Float32Array[];
  private step = 0;

  constructor(
    readonly model: TextCnn,
    private readonly rng: Rng,
    private readonly options: TextCnnSgdOptions = {},
  ) {
    const w = model.weights;
    this.dense = [...w.conv, ...w.convBias, w.out, w.outBias];
    this.grads = this.dense.map((a) => new Float32Array(a.length));
    this.m = this.dense.map((a) => new Float32Array(a.length));
    this.v = this.dense.map((a) => new Float32Array(a.length));
    this.embG2 = new Float64Array(model.vocabRows);
    this.pass = model.newPass();
    this.mask = new Float32Array(model.hidden);
    this.dh = new Float32Array(model.hidden);
    this.dx = [];
  }

  private adamStep(): void {
    const lr = this.options.learningRate ?? 0.002;
    const b1 = 0.9;
    const b2 = 0.999;
    this.step += 1;
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    const a = (lr * Math.sqrt(c2)) / c1;
    for (let p = 0; p < this.dense.length; p++) {
      const w = this.dense[p];
      const g = this.grads[p];
      const m = this.m[p];
      const v = this.v[p];
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        w[i] -= (a * m[i]) / (Math.sqrt(v[i]) + 1e-8);
      }
      g.fill(0);
    }
  }

  /** One pass over the samples in `order`; returns the mean weighted loss. */
  epoch(seqs: readonly Int32Array[], ys: ArrayLike<number>, order: ArrayLike<number>): number {
    const { model, pass, mask, dh, rng } = this;
    const { config, hidden, numClasses: k, weights } = model;
    const d = config.embeddingDim;
    const f = config.filters;
    const nw = config.widths.length;
    const batch = this.options.batchSize ?? 16;
    const drop = this.options.dropout ?? 0.5;
    const keepScale = 1 / (1 - drop);
    const elr = this.options.embeddingLearningRate ?? 0.05;
    const cw = this.options.classWeights;
    const gConv = this.grads.slice(0, nw);
    const gConvBias = this.grads.slice(nw, 2 * nw);
    const gOut = this.grads[2 * nw];
    const gOutBias = this.grads[2 * nw + 1];
    const dlogit = new Float32Array(k);
    let loss = 0;
    let inBatch = 0;
    for (let o = 0; o < order.length; o++) {
      const n = order[o];
      const ids = seqs[n];
      const y = ys[n];
      for (let u = 0; u < hidden; u++) mask[u] = rng.next() < drop ? 0 : keepScale;
      const probs = model.forward(ids, pass, drop > 0 ? mask : undefined);
      const sw = cw ? cw[y] : 1;
      loss -= sw * Math.log(Math.max(probs[y], 1e-12));
      for (let c = 0; c < k; c++) dlogit[c] = sw * (probs[c] - (c === y ? 1 : 0));
      // Output layer and the gradient at the pooled features.
      dh.fill(0);
      for (let c = 0; c < k; c++) {
        const g = dlogit[c];
        if (g === 0) continue;
        gOutBias[c] += g;
        const row = c * hidden;
        for (let u = 0; u < hidden; u++) {
          gOut[row + u] += g * pass.h[u];
          dh[u] += g * weights.out[row + u];
        }
      }
      // Through dropout, ReLU and the max: each live unit's gradient goes to its one best window.
      const rows = pass.rows;
      if (this.dx.length === 0 || this.dx[0].length < rows * d) this.dx[0] = new Float32Array(rows * d);
      const dx = this.dx[0];
      dx.fill(0, 0, rows * d);
      for (let wi = 0; wi < nw; wi++) {
        const wd = config.widths[wi] * d;
        const conv = weights.conv[wi];
        const gc = gConv[wi];
        const gb = gConvBias[wi];
        for (let j = 0; j < f; j++) {
          const unit = wi * f + j;
          if (pass.h[unit] <= 0) continue; // ReLU off, or dropped
          const g = dh[unit] * mask[unit];
          if (g === 0) continue;
          gb[j] += g;
          const xo = pass.argmax[unit] * d;
          const base = j * wd;
          for (let e = 0; e < wd; e++) {
            gc[base + e] += g * pass.x[xo + e];
            dx[xo + e] += g * conv[base + e];
          }
        }
      }
      // Embedding rows: AdaGrad with one accumulator per row, applied now.
      const emb = weights.embeddings;
      for (let t = 0; t < ids.length; t++) {
        const r = ids[t];
        let sq = 0;
        for (let e = 0; e < d; e++) sq += dx[t * d + e] * dx[t * d + e];
        if (sq === 0) continue;
        this.embG2[r] += sq / d;
        const step = elr / Math.sqrt(this.embG2[r] + 1e-8);
        for (let e = 0; e < d; e++) emb[r * d + e] -= step * dx[t * d + e];
      }
      inBatch += 1;
      if (inBatch === batch) {
        this.scaleGrads(1 / inBatch);
        this.adamStep();
        inBatch = 0;
      }
    }
    if (inBatch > 0) {
      this.scaleGrads(1 / inBatch);
      this.adamStep();
    }
    return loss / Math.max(1, order.length);
  }

  private scaleGrads(s: number): void {
    for (const g of this.grads) for (let i = 0; i < g.length; i++) g[i] *= s;
  }
}

/** A trained {@link TextCnn} with its token vocabulary and class names. */
export class TextCnnClassifier implements TextModel {
  readonly algorithm = 'text-cnn' as const;

  constructor(
    readonly vocabulary: TokenVocabulary,
    readonly model: TextCnn,
    readonly classNames: readonly string[],
  ) {
    if (model.vocabRows !== vocabulary.rows)
      throw new RangeError(`model has ${model.vocabRows} embedding rows, vocabulary ${vocabulary.rows}`);
    if (model.numClasses !== classNames.length)
      throw new RangeError(`model has ${model.numClasses} classes, ${classNames.length} names`);
  }

  get config(): TextCnnConfig {
    return this.model.config;
  }

  predictProba(texts: readonly string[]): Float32Array {
    const k = this.classNames.length;
    const out = new Float32Array(texts.length * k);
    const pass = this.model.newPass();
    texts.forEach((t, i) => out.set(this.model.forward(this.vocabulary.ids(t, this.config), pass), i * k));
    return out;
  }

  classify(texts: readonly string[], topK = 5): TextClassification[] {
    return classifyWith(this, texts, topK);
  }

  get params(): number {
    return this.model.params;
  }

  get bytes(): number {
    return this.model.params * 4 + this.vocabulary.buckets.byteLength;
  }
}
