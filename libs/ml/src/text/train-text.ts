import { accuracy, classificationMetrics, confusionMatrix } from '../eval/metrics';
import { mixSeed, Rng, shuffleInPlace } from '../train/rng';
import {
  countBuckets,
  FeatureVocabulary,
  type BucketCounts,
  type FeatureConfig,
  type SparseVector,
} from './features';
import { balancedClassWeights, fitSoftmaxLbfgs, LinearSoftmax, SoftmaxSgd } from './linear-model';
import { TextClassifier, type TextModel } from './text-classifier';
import { TextCnn, TextCnnClassifier, TextCnnTrainer, TokenVocabulary, type TextCnnConfig } from './text-cnn';
import { DEFAULT_TOKENIZER } from './tokenize';

export interface TextSplit {
  texts: readonly string[];
  /** Class index per text. */
  labels: ArrayLike<number>;
}

/** One configuration tried on the validation split: a linear model over n-gram TF-IDF features. */
export interface LinearTextCandidate {
  kind?: 'linear';
  name: string;
  features: FeatureConfig;
  classWeight: 'balanced' | 'none';
  /**
   * 'sgd' (default): per-sample AdaGrad SGD, one epoch per step, `learningRate` and `l2`.
   * 'lbfgs': full-batch L-BFGS to convergence, one L2 strength per step, from `l2Path` (strongest
   * first, each fit warm-started from the one before); early stopping on validation then picks the
   * L2 strength as it picks an epoch.
   */
  optimizer?: 'sgd' | 'lbfgs';
  learningRate: number;
  l2: number;
  /** L2 strengths of an 'lbfgs' candidate, per training sample count: l2 = l2Path[step] / samples. */
  l2Path?: readonly number[];
  /** Most L-BFGS iterations per step (default 200). */
  maxIterations?: number;
  /**
   * SGD only: this many models trained side by side, each over its own shuffle of the samples
   * (member 0 over the run's order), and averaged weight by weight after every epoch. The average of
   * linear models' logits is one linear model, so the candidate still exports one LinearSoftmax;
   * the average is what is scored and kept. Default 1 (one model). Costs `members` x the epochs.
   */
  members?: number;
}

/** One configuration tried on the validation split: a convolutional network over token embeddings. */
export interface CnnTextCandidate {
  kind: 'cnn';
  name: string;
  cnn: TextCnnConfig;
  classWeight: 'balanced' | 'none';
  /** Adam step size of the dense layers. */
  learningRate: number;
  /** AdaGrad step size of the embeddings. */
  embeddingLearningRate: number;
  dropout: number;
  batchSize: number;
  /** Most epochs of this candidate (below the run's maxEpochs; an epoch costs far more than a linear one). */
  maxEpochs?: number;
}

export type TextCandidate = LinearTextCandidate | CnnTextCandidate;

const WORDS: FeatureConfig = {
  version: 1,
  tokenizer: DEFAULT_TOKENIZER,
  hashBits: 22,
  wordNgrams: 2,
  charNgrams: [0, 0],
  sublinearTf: true,
  idf: true,
};
/**
 * Words and character 2..5-grams, the characters taken over the white-space-separated pieces of the
 * text with their punctuation (as scikit-learn's char_wb does). On fortunes-topics (validation, the
 * same SGD) this moved accuracy from 0.506 (characters of the tokenizer's words) to 0.563: the
 * punctuation ("?", quotes, ":") the tokenizer drops says much about a text's kind.
 */
const WORDS_AND_CHARS: FeatureConfig = { ...WORDS, charNgrams: [2, 5], charSource: 'whitespace' };

/**
 * The default search: word uni+bigrams alone, and with character 2..5-grams (which carry punctuation,
 * morphology, spelling variants and scripts without spaces), each with balanced and plain class weights.
 * Each candidate averages 4 SGD runs over different sample orders (`members`): on fortunes-topics
 * validation (words+chars/balanced) the average's macro-F1 was -0.1 to +0.8 points from its members'
 * mean at epochs 2-8 (+0.6 at the best epochs), for 4x the epochs' CPU time (docs/text.md).
 */
const MEMBERS = 4;
export const DEFAULT_TEXT_CANDIDATES: readonly TextCandidate[] = [
  {
    name: 'words+chars/balanced',
    features: WORDS_AND_CHARS,
    classWeight: 'balanced',
    learningRate: 0.2,
    l2: 1e-6,
    members: MEMBERS,
  },
  {
    name: 'words/balanced',
    features: WORDS,
    classWeight: 'balanced',
    learningRate: 0.2,
    l2: 1e-6,
    members: MEMBERS,
  },
  {
    name: 'words+chars/none',
    features: WORDS_AND_CHARS,
    classWeight: 'none',
    learningRate: 0.2,
    l2: 1e-6,
    members: MEMBERS,
  },
  { name: 'words/none', features: WORDS, classWeight: 'none', learningRate: 0.2, l2: 1e-6, members: MEMBERS },
];

/**
 * The neural candidate: a CNN (Kim 2014) over 64-dimensional token embeddings learned from the
 * training texts (no pretrained vectors ship in a registry package this runs from), 64 filters of
 * widths 1, 2 and 3 tokens, dropout 0.5, balanced class weights.
 */
export const TEXT_CNN_CANDIDATE: CnnTextCandidate = {
  kind: 'cnn',
  name: 'cnn/balanced',
  cnn: {
    version: 1,
    tokenizer: DEFAULT_TOKENIZER,
    hashBits: 22,
    maxTokens: 256,
    embeddingDim: 64,
    widths: [1, 2, 3],
    filters: 64,
  },
  classWeight: 'balanced',
  learningRate: 0.002,
  embeddingLearningRate: 0.05,
  dropout: 0.5,
  batchSize: 16,
  maxEpochs: 10,
};

export interface TextEpochLog {
  candidate: string;
  epoch: number;
  loss: number;
  valAccuracy: number;
  valMacroF1: number;
  /** Seconds since training started. */
  elapsed: number;
}

export interface TrainTextOptions {
  classNames: readonly string[];
  candidates?: readonly TextCandidate[];
  /** Most epochs per candidate (default 20). */
  maxEpochs?: number;
  /** Epochs without a better validation score before a candidate stops (default 2). */
  patience?: number;
  /** Validation metric that picks the model (default macro-F1, then accuracy on ties). */
  select?: 'macroF1' | 'accuracy';
  seed?: number;
  /** Keep only buckets seen in at least this many training texts (default 1). */
  minDf?: number;
  /** Date.now() time at which training stops and keeps the best model so far. */
  deadline?: number;
  signal?: AbortSignal;
  onEpoch?: (log: TextEpochLog) => void | Promise<void>;
}

export interface TextTrialResult {
  candidate: string;
  bestEpoch: number;
  epochs: number;
  valAccuracy: number;
  valMacroF1: number;
  seconds: number;
  features: number;
}

export interface TextTrainingResult {
  classifier: TextModel;
  candidate: TextCandidate;
  bestEpoch: number;
  valAccuracy: number;
  valMacroF1: number;
  trials: TextTrialResult[];
  /** Wall-clock seconds of the whole search. */
  seconds: number;
  /** Training stopped early at the deadline. */
  stoppedByDeadline: boolean;
}

interface Featurized {
  vocab: FeatureVocabulary;
  train: SparseVector[];
  val: SparseVector[];
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/** One candidate being trained: an epoch over the training order, a validation score, a copy of the model. */
interface CandidateRun {
  features: number;
  /** Most steps of this run (an L-BFGS candidate's L2 path), below the run's maxEpochs. */
  steps?: number;
  epoch(order: Uint32Array): Promise<number>;
  score(): { acc: number; f1: number };
  snapshot(): TextModel;
}

/**
 * One epoch as consecutive slices of the order, yielding to the event loop between them so that a
 * long epoch never blocks timers (a worker's queue-lock renewal, progress, the deadline) for long.
 * Per-sample updates make the slices' result the same as one pass. Returns the mean loss.
 */
async function inSlices(
  order: Uint32Array,
  size: number,
  pass: (part: Uint32Array) => number,
): Promise<number> {
  let sum = 0;
  for (let start = 0; start < order.length; start += size) {
    const part = order.subarray(start, Math.min(order.length, start + size));
    sum += pass(part) * part.length;
    if (start + size < order.length) await yieldToLoop();
  }
  return sum / Math.max(1, order.length);
}

function validationScores<X>(
  predictInto: (x: X, out: Float32Array) => void,
  xs: X[],
  ys: ArrayLike<number>,
  k: number,
): { acc: number; f1: number } {
  const pred = new Int32Array(xs.length);
  const row = new Float32Array(k);
  xs.forEach((x, i) => {
    predictInto(x, row);
    let best = 0;
    for (let c = 1; c < k; c++) if (row[c] > row[best]) best = c;
    pred[i] = best;
  });
  const cm = confusionMatrix(ys, pred, k);
  return { acc: accuracy(ys, pred), f1: classificationMetrics(cm).macro.f1 };
}

/**
 * Trains a text classifier: for each candidate configuration (a linear softmax model over hashed
 * TF-IDF n-gram features, or a CNN over token embeddings), epoch by epoch, scored on the validation
 * split; the best (candidate, epoch) by the validation metric is kept. The test split is not seen here. Deterministic for a seed.
 */
export async function trainTextClassifier(
  train: TextSplit,
  validation: TextSplit,
  options: TrainTextOptions,
): Promise<TextTrainingResult> {
  const started = performance.now();
  const k = options.classNames.length;
  if (k < 2) throw new RangeError('a classifier needs at least two classes');
  if (train.texts.length === 0) throw new RangeError('no training texts');
  const candidates = options.candidates ?? DEFAULT_TEXT_CANDIDATES;
  const maxEpochs = options.maxEpochs ?? 20;
  const patience = options.patience ?? 2;
  const select = options.select ?? 'macroF1';
  const seed = options.seed ?? 0;
  const score = (s: { acc: number; f1: number }) => (select === 'accuracy' ? [s.acc, s.f1] : [s.f1, s.acc]);
  const better = (a: number[], b: number[]) =>
    a[0] > b[0] + 1e-12 || (Math.abs(a[0] - b[0]) <= 1e-12 && a[1] > b[1] + 1e-12);
  const timeUp = () => options.deadline !== undefined && Date.now() >= options.deadline;
  const hasValidation = validation.texts.length > 0;

  const featureCache = new Map<string, Featurized>();
  const featurized = async (config: FeatureConfig): Promise<Featurized> => {
    const key = JSON.stringify(config);
    const hit = featureCache.get(key);
    if (hit) return hit;
    const counts = (texts: readonly string[]): BucketCounts[] => texts.map((t) => countBuckets(t, config));
    const trainCounts = counts(train.texts);
    await yieldToLoop();
    const vocab = FeatureVocabulary.fromTraining(trainCounts, options.minDf ?? 1);
    const f: Featurized = {
      vocab,
      train: trainCounts.map((c) => vocab.vectorize(c, config)),
      val: counts(validation.texts).map((c) => vocab.vectorize(c, config)),
    };
    featureCache.set(key, f);
    return f;
  };

  let best:
    { candidate: TextCandidate; epoch: number; s: { acc: number; f1: number }; model: TextModel } | undefined;

  const classWeights = (c: TextCandidate) =>
    c.classWeight === 'balanced' ? balancedClassWeights(train.labels, k) : undefined;
  const lbfgsRun = (candidate: LinearTextCandidate, f: Featurized): CandidateRun => {
    const model = new LinearSoftmax(f.vocab.size, k);
    const n = Math.max(1, train.texts.length);
    const path = candidate.l2Path ?? [candidate.l2 * n];
    const weights = classWeights(candidate);
    let step = 0;
    let warm: Float64Array | undefined;
    return {
      features: f.vocab.size,
      steps: path.length,
      epoch: async () => {
        const fit = await fitSoftmaxLbfgs(model, f.train, train.labels, {
          l2: path[Math.min(step, path.length - 1)] / n,
          classWeights: weights,
          init: warm,
          maxIterations: candidate.maxIterations ?? 200,
          onIteration: async () => {
            options.signal?.throwIfAborted();
            // Yield between iterations (queue-lock renewal, progress); stop at the deadline.
            await yieldToLoop();
            return !timeUp();
          },
        });
        warm = fit.params;
        step++;
        return fit.loss;
      },
      score: () => validationScores((x, out) => model.predictInto(x, out), f.val, validation.labels, k),
      snapshot: () =>
        new TextClassifier(
          candidate.features,
          f.vocab,
          new LinearSoftmax(f.vocab.size, k, model.weights.slice(), model.bias.slice()),
          options.classNames,
        ),
    };
  };
  const linearRun = async (candidate: LinearTextCandidate): Promise<CandidateRun> => {
    const f = await featurized(candidate.features);
    if (candidate.optimizer === 'lbfgs') return lbfgsRun(candidate, f);
    const members = Math.max(1, Math.floor(candidate.members ?? 1));
    const weights = classWeights(candidate);
    const runs = Array.from({ length: members }, (_, m) => {
      const member = new LinearSoftmax(f.vocab.size, k);
      const sgd = new SoftmaxSgd(member, {
        learningRate: candidate.learningRate,
        l2: candidate.l2,
        classWeights: weights,
      });
      // Member 0 follows the run's order; the others shuffle their own, from seeds of their own.
      const own = m === 0 ? undefined : new Rng(mixSeed(seed, 0x6d656d, m));
      const order = Uint32Array.from({ length: train.texts.length }, (_, i) => i);
      return { member, sgd, own, order };
    });
    const model = members === 1 ? runs[0].member : new LinearSoftmax(f.vocab.size, k);
    const average = () => {
      const w = model.weights;
      const b = model.bias;
      w.fill(0);
      b.fill(0);
      for (const r of runs) {
        const mw = r.member.weights;
        for (let i = 0; i < w.length; i++) w[i] += mw[i];
        for (let c = 0; c < k; c++) b[c] += r.member.bias[c];
      }
      for (let i = 0; i < w.length; i++) w[i] /= members;
      for (let c = 0; c < k; c++) b[c] /= members;
    };
    return {
      features: f.vocab.size,
      epoch: async (order) => {
        let loss = 0;
        for (const r of runs) {
          let o = order;
          if (r.own) {
            shuffleInPlace(r.order, r.own);
            o = r.order;
          }
          loss += await inSlices(o, 1024, (part) => r.sgd.epoch(f.train, train.labels, part));
        }
        if (members > 1) average();
        return loss / members;
      },
      score: () => validationScores((x, out) => model.predictInto(x, out), f.val, validation.labels, k),
      snapshot: () =>
        new TextClassifier(
          candidate.features,
          f.vocab,
          new LinearSoftmax(f.vocab.size, k, model.weights.slice(), model.bias.slice()),
          options.classNames,
        ),
    };
  };
  const cnnRun = (candidate: CnnTextCandidate): CandidateRun => {
    const vocab = TokenVocabulary.fromTraining(train.texts, candidate.cnn, options.minDf ?? 1);
    const trainIds = train.texts.map((t) => vocab.ids(t, candidate.cnn));
    const valIds = validation.texts.map((t) => vocab.ids(t, candidate.cnn));
    const model = TextCnn.init(candidate.cnn, vocab.rows, k, new Rng(mixSeed(seed, 0x636e6e)));
    const trainer = new TextCnnTrainer(model, new Rng(mixSeed(seed, 0x64726f70)), {
      learningRate: candidate.learningRate,
      embeddingLearningRate: candidate.embeddingLearningRate,
      dropout: candidate.dropout,
      batchSize: candidate.batchSize,
      classWeights: classWeights(candidate),
    });
    const pass = model.newPass();
    return {
      features: vocab.buckets.length,
      // Slices of whole batches: the same updates as one pass.
      epoch: (order) =>
        inSlices(order, candidate.batchSize * 16, (part) => trainer.epoch(trainIds, train.labels, part)),
      score: () =>
        validationScores((ids, out) => out.set(model.forward(ids, pass)), valIds, validation.labels, k),
      snapshot: () =>
        new TextCnnClassifier(
          vocab,
          new TextCnn(candidate.cnn, vocab.rows, k, model.copyWeights()),
          options.classNames,
        ),
    };
  };
  const trials: TextTrialResult[] = [];
  let stoppedByDeadline = false;

  for (const candidate of candidates) {
    options.signal?.throwIfAborted();
    if (best && timeUp()) {
      stoppedByDeadline = true;
      break;
    }
    const t0 = performance.now();
    const run = candidate.kind === 'cnn' ? cnnRun(candidate) : await linearRun(candidate);
    const rng = new Rng(seed);
    const order = Uint32Array.from({ length: train.texts.length }, (_, i) => i);
    let trialBest: { epoch: number; s: { acc: number; f1: number }; model: TextModel } | undefined;
    let epochs = 0;
    const epochCap = Math.min(
      maxEpochs,
      candidate.kind === 'cnn' ? (candidate.maxEpochs ?? maxEpochs) : maxEpochs,
      run.steps ?? maxEpochs,
    );
    for (let epoch = 0; epoch < epochCap; epoch++) {
      options.signal?.throwIfAborted();
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
      }
      const loss = await run.epoch(order);
      epochs = epoch + 1;
      const s = hasValidation ? run.score() : { acc: 0, f1: 0 };
      await options.onEpoch?.({
        candidate: candidate.name,
        epoch,
        loss,
        valAccuracy: s.acc,
        valMacroF1: s.f1,
        elapsed: (performance.now() - started) / 1000,
      });
      // Without a validation split the last epoch is kept.
      if (!trialBest || !hasValidation || better(score(s), score(trialBest.s)))
        trialBest = { epoch, s, model: run.snapshot() };
      else if (epoch - trialBest.epoch >= patience) break;
      await yieldToLoop();
      if (timeUp()) {
        stoppedByDeadline = true;
        break;
      }
    }
    if (!trialBest) break;
    trials.push({
      candidate: candidate.name,
      bestEpoch: trialBest.epoch,
      epochs,
      valAccuracy: trialBest.s.acc,
      valMacroF1: trialBest.s.f1,
      seconds: (performance.now() - t0) / 1000,
      features: run.features,
    });
    if (!best || better(score(trialBest.s), score(best.s)))
      best = { candidate, epoch: trialBest.epoch, s: trialBest.s, model: trialBest.model };
    if (stoppedByDeadline) break;
  }
  if (!best) throw new Error('no candidate was trained');
  return {
    classifier: best.model,
    candidate: best.candidate,
    bestEpoch: best.epoch,
    valAccuracy: best.s.acc,
    valMacroF1: best.s.f1,
    trials,
    seconds: (performance.now() - started) / 1000,
    stoppedByDeadline,
  };
}
