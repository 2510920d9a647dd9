/**
 * Limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed., algorithms 7.4 and 7.5)
 * for smooth unconstrained minimization over a Float64Array, with a backtracking line search on the
 * Armijo condition. Written for large convex problems (a linear model's millions of weights): the
 * memory is `2 x memory + 4` vectors of the problem's size and no matrix is ever formed. A curvature
 * pair with s.y <= 0 (which a convex objective only produces from rounding) is skipped.
 *
 * Stops when the largest gradient component is at most `gradientTolerance`, when an iteration
 * decreases the objective by at most `functionTolerance` relative to it (scipy's `ftol`), after
 * `maxIterations`, or when `onIteration` returns false.
 */
export interface LbfgsOptions {
  /** Curvature pairs kept (default 7). */
  memory?: number;
  /** Most iterations (default 500). */
  maxIterations?: number;
  /** Stop when max |gradient| <= this (default 1e-5). */
  gradientTolerance?: number;
  /** Stop when (f_old - f_new) / max(|f_old|, |f_new|, 1) <= this (default 1e-9). */
  functionTolerance?: number;
  /** Most objective evaluations of one line search (default 20). */
  maxLineSearch?: number;
  /** Called after each iteration; returning false stops (a promise lets the caller yield). */
  onIteration?: (it: LbfgsIteration) => boolean | void | Promise<boolean | void>;
}

export interface LbfgsIteration {
  iteration: number;
  f: number;
  gradientMax: number;
  evaluations: number;
}

export type LbfgsStop = 'gradient' | 'function' | 'maxIterations' | 'callback' | 'lineSearch';

export interface LbfgsResult {
  /** The minimizer found (the `x0` array, updated in place). */
  x: Float64Array;
  f: number;
  gradientMax: number;
  iterations: number;
  evaluations: number;
  stop: LbfgsStop;
}

/** Objective and gradient: writes the gradient at `x` into `g` and returns the objective. */
export type Objective = (x: Float64Array, g: Float64Array) => number;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m) m = v;
  }
  return m;
}

/** Minimizes `objective` from `x0` (updated in place). */
export async function minimizeLbfgs(
  objective: Objective,
  x0: Float64Array,
  options: LbfgsOptions = {},
): Promise<LbfgsResult> {
  const n = x0.length;
  const m = Math.max(1, options.memory ?? 7);
  const maxIterations = options.maxIterations ?? 500;
  const gtol = options.gradientTolerance ?? 1e-5;
  const ftol = options.functionTolerance ?? 1e-9;
  const maxLs = options.maxLineSearch ?? 20;
  const x = x0;
  const g = new Float64Array(n);
  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  let f = objective(x, g);
  let evaluations = 1;
  let gmax = maxAbs(g);
  let iterations = 0;
  let stop: LbfgsStop = 'maxIterations';
  if (!Number.isFinite(f)) throw new RangeError('objective is not finite at the start');
  if (gmax <= gtol) stop = 'gradient';
  while (stop === 'maxIterations' && iterations < maxIterations) {
    // Two-loop recursion: d = -H g.
    d.set(g);
    const k = s.length;
    for (let j = k - 1; j >= 0; j--) {
      const a = rho[j] * dot(s[j], d);
      alpha[j] = a;
      const yj = y[j];
      for (let i = 0; i < n; i++) d[i] -= a * yj[i];
    }
    if (k > 0) {
      const gamma = dot(s[k - 1], y[k - 1]) / dot(y[k - 1], y[k - 1]);
      for (let i = 0; i < n; i++) d[i] *= gamma;
    }
    for (let j = 0; j < k; j++) {
      const b = rho[j] * dot(y[j], d);
      const sj = s[j];
      const c = alpha[j] - b;
      for (let i = 0; i < n; i++) d[i] += c * sj[i];
    }
    for (let i = 0; i < n; i++) d[i] = -d[i];
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (rounding): restart from steepest descent.
      s.length = 0;
      y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      slope = -dot(g, g);
    }
    // First step without curvature information: a unit-length move.
    let step = s.length === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    let fNew = NaN;
    let accepted = false;
    for (let ls = 0; ls < maxLs; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
      fNew = objective(xNew, gNew);
      evaluations++;
      if (Number.isFinite(fNew) && fNew <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      stop = 'lineSearch';
      break;
    }
    iterations++;
    // Curvature pair (reusing the oldest pair's arrays once the memory is full).
    const sNew = s.length === m ? s.shift()! : new Float64Array(n);
    const yNew = y.length === m ? y.shift()! : new Float64Array(n);
    if (rho.length === m) rho.shift();
    for (let i = 0; i < n; i++) {
      sNew[i] = xNew[i] - x[i];
      yNew[i] = gNew[i] - g[i];
    }
    const sy = dot(sNew, yNew);
    if (sy > 1e-12 * Math.sqrt(dot(sNew, sNew) * dot(yNew, yNew))) {
      s.push(sNew);
      y.push(yNew);
      rho.push(1 / sy);
    }
    const fOld = f;
    x.set(xNew);
    g.set(gNew);
    f = fNew;
    gmax = maxAbs(g);
    const more = await options.onIteration?.({ iteration: iterations, f, gradientMax: gmax, evaluations });
    if (gmax <= gtol) stop = 'gradient';
    else if ((fOld - f) / Math.max(Math.abs(fOld), Math.abs(f), 1) <= ftol) stop = 'function';
    else if (more === false) stop = 'callback';
  }
  return { x, f, gradientMax: gmax, iterations, evaluations, stop };
}
