import { Rng, seededPermutation } from '../train/rng';

/**
 * Synthetic label noise for measuring mislabel detection (benches and specs):
 * - 'symmetric': a `rate` fraction of the samples (exactly round(rate x n), chosen by the seed) get a
 *   label drawn uniformly from the other classes;
 * - 'class-dependent': the same fraction, each flipped to a fixed "confusable" class, `pairs[y]`
 *   (default y -> y + 1 mod classes, the asymmetric pattern of Patrini et al. 2017 in its simplest form).
 */
export interface LabelNoise {
  kind: 'symmetric' | 'class-dependent';
  rate: number;
  seed: number;
  /** 'class-dependent': the class each class is flipped to. */
  pairs?: readonly number[];
}

export function injectLabelNoise(
  labels: ArrayLike<number>,
  classes: number,
  noise: LabelNoise,
): { labels: Int32Array; flipped: boolean[] } {
  const n = labels.length;
  if (!(noise.rate >= 0 && noise.rate <= 1)) throw new RangeError('rate must be in [0, 1]');
  if (classes < 2) throw new RangeError('label noise needs at least 2 classes');
  const out = Int32Array.from(labels);
  const flipped = new Array<boolean>(n).fill(false);
  const chosen = seededPermutation(n, noise.seed).subarray(0, Math.round(noise.rate * n));
  const rng = new Rng(noise.seed ^ 0x5eed);
  for (const i of chosen) {
    const y = out[i];
    let to: number;
    if (noise.kind === 'symmetric') {
      to = rng.int(classes - 1);
      if (to >= y) to++;
    } else {
      to = noise.pairs?.[y] ?? (y + 1) % classes;
    }
    if (to === y) continue;
    out[i] = to;
    flipped[i] = true;
  }
  return { labels: out, flipped };
}
