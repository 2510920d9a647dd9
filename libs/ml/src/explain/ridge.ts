/**
 * Weighted ridge regression with an unpenalized intercept (as scikit-learn's Ridge with
 * sample_weight, which LIME uses): centre X and y on their weighted means, then solve
 * (Xcᵀ W Xc + λ I) β = Xcᵀ W yc by Cholesky (the matrix is symmetric positive definite for λ > 0).
 */
export function weightedRidge(
  x: Float64Array | Float32Array,
  rows: number,
  cols: number,
  y: ArrayLike<number>,
  weights: ArrayLike<number>,
  lambda: number,
): { coef: Float64Array; intercept: number; r2: number } {
  let wSum = 0;
  const xMean = new Float64Array(cols);
  let yMean = 0;
  for (let i = 0; i < rows; i++) {
    const wi = weights[i];
    wSum += wi;
    yMean += wi * y[i];
    for (let j = 0; j < cols; j++) xMean[j] += wi * x[i * cols + j];
  }
  yMean /= wSum;
  for (let j = 0; j < cols; j++) xMean[j] /= wSum;
  const a = new Float64Array(cols * cols);
  const b = new Float64Array(cols);
  const row = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const wi = weights[i];
    const yi = y[i] - yMean;
    for (let j = 0; j < cols; j++) row[j] = x[i * cols + j] - xMean[j];
    for (let j = 0; j < cols; j++) {
      const wj = wi * row[j];
      b[j] += wj * yi;
      for (let l = 0; l <= j; l++) a[j * cols + l] += wj * row[l];
    }
  }
  for (let j = 0; j < cols; j++) {
    a[j * cols + j] += lambda;
    for (let l = 0; l < j; l++) a[l * cols + j] = a[j * cols + l];
  }
  const coef = choleskySolve(a, b, cols);
  let intercept = yMean;
  for (let j = 0; j < cols; j++) intercept -= coef[j] * xMean[j];
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < rows; i++) {
    let pred = intercept;
    for (let j = 0; j < cols; j++) pred += coef[j] * x[i * cols + j];
    ssRes += weights[i] * (y[i] - pred) ** 2;
    ssTot += weights[i] * (y[i] - yMean) ** 2;
  }
  return { coef, intercept, r2: ssTot > 0 ? 1 - ssRes / ssTot : 1 };
}

/** Solves A x = b for symmetric positive definite A (n x n, row-major). */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / l[j * n + j];
    }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * z[k];
    z[i] = s / l[i * n + i];
  }
  const out = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * out[k];
    out[i] = s / l[i * n + i];
  }
  return out;
}
