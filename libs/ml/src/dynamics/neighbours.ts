/**
 * Neighbour label votes (the k-nearest-neighbour agreement of "Deep k-NN defense against noisy
 * labels", Bahri et al. 2020, and SimiFeat, Zhu et al. 2022): for each sample, its `k` most similar
 * other samples (cosine similarity of the feature vectors) vote for their given labels, each with
 * weight max(0, similarity); the votes, normalized to sum 1, are a class distribution the sample's own
 * label never entered (a held-out opinion without any fitting). O(n^2 x dim): for the train splits
 * whose features {@link crossFitScores} holds anyway; memory O(n).
 *
 * `voters` (default: every sample): only the samples marked true vote (e.g. all but the suspected ones).
 *
 * Returns n x classes probabilities, row-major (uniform where no neighbour has a positive similarity).
 */
export function neighbourVotes(
  features: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
  k: number,
  voters?: ArrayLike<boolean>,
): Float64Array {
  const n = labels.length;
  if (n < 2) throw new RangeError('neighbour votes need at least 2 samples');
  if (features.length % n !== 0) throw new RangeError('features are not n rows of equal length');
  const dim = features.length / n;
  if (voters && voters.length !== n) throw new RangeError('voters must have one entry per sample');
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += features[i * dim + j] ** 2;
    norm[i] = Math.sqrt(s) || 1;
  }
  const out = new Float64Array(n * classes);
  const sim = new Float64Array(n);
  const others: number[] = [];
  for (let i = 0; i < n; i++) {
    others.length = 0;
    for (let m = 0; m < n; m++) {
      if (m === i || (voters && !voters[m])) continue;
      let s = 0;
      for (let j = 0; j < dim; j++) s += features[i * dim + j] * features[m * dim + j];
      sim[m] = s / (norm[i] * norm[m]);
      others.push(m);
    }
    // Ties in similarity: the lower index first, so the votes do not depend on the sort's stability.
    others.sort((a, b) => sim[b] - sim[a] || a - b);
    let total = 0;
    const kk = Math.min(Math.max(1, Math.floor(k)), others.length);
    for (let t = 0; t < kk; t++) {
      const m = others[t];
      const w = Math.max(0, sim[m]);
      const y = labels[m];
      if (!(y >= 0 && y < classes)) throw new RangeError(`label ${y} outside [0, ${classes})`);
      out[i * classes + y] += w;
      total += w;
    }
    for (let c = 0; c < classes; c++)
      out[i * classes + c] = total > 0 ? out[i * classes + c] / total : 1 / classes;
  }
  return out;
}
