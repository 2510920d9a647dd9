import { countBuckets, FeatureVocabulary, type FeatureConfig, type SparseVector } from './features';
import { LinearSoftmax } from './linear-model';

export interface TextClassScore {
  label: string;
  score: number;
}

/** One text's prediction: the best class and the `topK` best, best first. */
export interface TextClassification {
  label: string;
  score: number;
  top: TextClassScore[];
}

/** What serving, batch prediction and evaluation need of any trained text model. */
export interface TextModel {
  /** The model family as the artifact names it. */
  readonly algorithm: 'linear-softmax' | 'text-cnn';
  readonly classNames: readonly string[];
  /** Class probabilities, one row per text (row-major [texts x classes]). */
  predictProba(texts: readonly string[]): Float32Array;
  classify(texts: readonly string[], topK?: number): TextClassification[];
  /** Number of weights. */
  readonly params: number;
  /** Bytes of the weights (and vocabulary) in memory. */
  readonly bytes: number;
}

/** The best class and the `topK` best of each text, from a model's probabilities. */
export function classifyWith(model: TextModel, texts: readonly string[], topK = 5): TextClassification[] {
  const k = model.classNames.length;
  const probs = model.predictProba(texts);
  const keep = Math.max(1, Math.min(topK, k));
  return texts.map((_, i) => {
    const row = probs.subarray(i * k, (i + 1) * k);
    const order = Array.from({ length: k }, (_, c) => c).sort((a, b) => row[b] - row[a] || a - b);
    const top = order.slice(0, keep).map((c) => ({ label: model.classNames[c], score: row[c] }));
    return { label: top[0].label, score: top[0].score, top };
  });
}

/**
 * A trained text classifier: featurizer settings (tokenizer, hashing, n-grams), the vocabulary of
 * hashed buckets with their IDF, and a linear softmax model over them. Pure TypeScript: it predicts
 * anywhere Node runs, from the files {@link serializeTextClassifier} writes.
 */
export class TextClassifier implements TextModel {
  readonly algorithm = 'linear-softmax' as const;

  constructor(
    readonly features: FeatureConfig,
    readonly vocabulary: FeatureVocabulary,
    readonly model: LinearSoftmax,
    readonly classNames: readonly string[],
  ) {
    if (model.numFeatures !== vocabulary.size)
      throw new RangeError(`model has ${model.numFeatures} features, vocabulary ${vocabulary.size}`);
    if (model.numClasses !== classNames.length)
      throw new RangeError(`model has ${model.numClasses} classes, ${classNames.length} names`);
  }

  vectorize(text: string): SparseVector {
    return this.vocabulary.vectorize(countBuckets(text, this.features), this.features);
  }

  /** Class probabilities, one row per text (row-major [texts x classes]). */
  predictProba(texts: readonly string[]): Float32Array {
    const k = this.classNames.length;
    const out = new Float32Array(texts.length * k);
    const row = new Float32Array(k);
    texts.forEach((t, i) => {
      this.model.predictInto(this.vectorize(t), row);
      out.set(row, i * k);
    });
    return out;
  }

  classify(texts: readonly string[], topK = 5): TextClassification[] {
    return classifyWith(this, texts, topK);
  }

  get params(): number {
    return this.model.weights.length + this.model.bias.length;
  }

  /** Bytes of the weights, vocabulary and IDF in memory. */
  get bytes(): number {
    return (
      this.model.weights.byteLength +
      this.model.bias.byteLength +
      this.vocabulary.buckets.byteLength +
      this.vocabulary.idf.byteLength
    );
  }
}
