/**
 * Which finished trial becomes the job's model (pure logic). A validation split of a few dozen images
 * cannot tell apart two models that differ by an image or two, and a search of a dozen trials will
 * find one that wins such a split by chance: the chosen model then changes on noise, often to one
 * that fitted the training images harder and serves other images worse. So the trials are taken in
 * the search's order (trial index: the search starts with its cheapest, most conservative model, a
 * head on frozen features) and a later trial replaces the incumbent only when it is better on the
 * same validation images by more than the noise of that comparison: with both trials' per-image
 * results (`validationCorrect`), McNemar's statistic on the images where exactly one of the two is
 * right, `(b - c) / sqrt(b + c)` with b the images only the candidate gets right and c those only the
 * incumbent gets right, must exceed {@link REPLACE_Z}, i.e. the paired difference must exceed its
 * standard error under the hypothesis that the two are equally good. One image more never suffices
 * (b - c = 1 gives at most 1). Trials recorded without per-image results (or on other images) are
 * compared as before: higher validation accuracy, on a tie the higher rung.
 *
 * One exception: a continuation of the incumbent (the same model trained a few epochs further at a low
 * learning rate with its weights averaged, the search's CONTINUATION) is not a competing
 * configuration but a refinement of the incumbent, one comparison with a prior in its favour (weight
 * averaging is expected not to hurt, Izmailov et al. 2018), not the best of many draws. It replaces
 * its parent when it gets more of the same images right at all (b > c; without per-image results, a
 * higher accuracy). In the search-vs-default rounds before the paired rule, every continuation chosen
 * this way kept or raised the test accuracy (docs/training.md).
 */

/** The z a candidate's paired validation advantage over the incumbent must exceed to replace it. */
export const REPLACE_Z = 1;

/** A finished, feasible trial as the choice sees it. */
export interface ChoiceCandidate {
  index: number;
  rung: number;
  accuracy: number;
  /** Per validation image in the split's order, whether the model's prediction is right (1) or not (0). */
  correct?: Uint8Array;
  /** Which images those are (a hash of the labels in order): only equal keys are compared image by image. */
  imagesKey?: string;
  /** The trial this one continues (a continuation of it: the same model trained further). */
  continuationOf?: number;
}

/** b (only `a` right) and c (only `b` right) over the same images, or undefined when not comparable. */
export function discordant(
  a: ChoiceCandidate,
  b: ChoiceCandidate,
): { onlyA: number; onlyB: number } | undefined {
  if (!a.correct || !b.correct || a.correct.length !== b.correct.length || a.correct.length === 0)
    return undefined;
  if (a.imagesKey !== b.imagesKey) return undefined;
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < a.correct.length; i++) {
    if (a.correct[i] && !b.correct[i]) onlyA++;
    else if (!a.correct[i] && b.correct[i]) onlyB++;
  }
  return { onlyA, onlyB };
}

/** Whether `candidate` should replace `incumbent` as the job's model (see the module's comment). */
export function replacesIncumbent(candidate: ChoiceCandidate, incumbent: ChoiceCandidate): boolean {
  const d = discordant(candidate, incumbent);
  if (candidate.continuationOf === incumbent.index)
    return d ? d.onlyA > d.onlyB : candidate.accuracy > incumbent.accuracy;
  if (!d)
    return (
      candidate.accuracy > incumbent.accuracy ||
      (candidate.accuracy === incumbent.accuracy && candidate.rung > incumbent.rung)
    );
  const n = d.onlyA + d.onlyB;
  return n > 0 && (d.onlyA - d.onlyB) / Math.sqrt(n) > REPLACE_Z;
}

/** The job's model among `candidates`: the incumbent after taking them in index order. */
export function chooseModel<T extends ChoiceCandidate>(candidates: readonly T[]): T | undefined {
  let incumbent: T | undefined;
  for (const c of [...candidates].sort((a, b) => a.index - b.index))
    if (!incumbent || replacesIncumbent(c, incumbent)) incumbent = c;
  return incumbent;
}

/**
 * A trial's candidate from what its ledger row's metrics record (`validationCorrect`, packed by
 * {@link packCorrect}, and `validationImages`, a {@link labelsKey}); without them, accuracy and rung only.
 */
export function candidateFromMetrics(
  index: number,
  rung: number,
  accuracy: number,
  metrics: Record<string, unknown> | null | undefined,
): ChoiceCandidate {
  const packed = metrics?.validationCorrect;
  const key = metrics?.validationImages;
  const count = typeof key === 'string' ? Number(key.split(':')[0]) : NaN;
  return {
    index,
    rung,
    accuracy,
    ...(typeof packed === 'string' && typeof key === 'string' && Number.isInteger(count)
      ? { correct: unpackCorrect(packed, count), imagesKey: key }
      : {}),
  };
}

/** Per-image right/wrong packed 8 to a byte, base64 (what a trial's metrics record). */
export function packCorrect(correct: Uint8Array): string {
  const bytes = new Uint8Array(Math.ceil(correct.length / 8));
  correct.forEach((v, i) => {
    if (v) bytes[i >> 3] |= 1 << (i & 7);
  });
  return Buffer.from(bytes).toString('base64');
}

/** The inverse of {@link packCorrect} for `count` images. */
export function unpackCorrect(packed: string, count: number): Uint8Array {
  const bytes = Buffer.from(packed, 'base64');
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bytes[i >> 3] >> (i & 7)) & 1;
  return out;
}

/** A short key of a label sequence (FNV-1a, hex): two trials saw the same images in the same order. */
export function labelsKey(labels: ArrayLike<number>): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < labels.length; i++) {
    h ^= labels[i] & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= (labels[i] >> 8) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${labels.length}:${h.toString(16)}`;
}
