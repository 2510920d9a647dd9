import { Matrix, solve } from 'ml-matrix';
import { minimizeLbfgs } from './lbfgs';
import { Rng } from './rng';

describe('minimizeLbfgs', () => {
  it('finds the minimizer of a 50-dimensional convex quadratic (A x = b, solved independently by ml-matrix)', async () => {
    const n = 50;
    const rng = new Rng(7);
    // A = M^T M + I (symmetric positive definite, condition number in the hundreds), b random.
    const m = Matrix.zeros(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, rng.next() * 2 - 1);
    const a = m.transpose().mmul(m).add(Matrix.eye(n));
    const b = Matrix.columnVector(Array.from({ length: n }, () => rng.next() * 2 - 1));
    const expected = solve(a, b).getColumn(0);
    const ad = a.to2DArray();
    const bd = b.getColumn(0);
    const objective = (x: Float64Array, g: Float64Array) => {
      let f = 0;
      for (let i = 0; i < n; i++) {
        let ax = 0;
        for (let j = 0; j < n; j++) ax += ad[i][j] * x[j];
        g[i] = ax - bd[i];
        f += 0.5 * x[i] * ax - bd[i] * x[i];
      }
      return f;
    };
    const r = await minimizeLbfgs(objective, new Float64Array(n), {
      gradientTolerance: 1e-7,
      functionTolerance: 0,
      maxIterations: 1000,
    });
    expect(r.stop).toBe('gradient');
    for (let i = 0; i < n; i++) expect(r.x[i]).toBeCloseTo(expected[i], 6);
  });

  it('reaches the minimum (1, 1) of the Rosenbrock function (non-convex, curved valley)', async () => {
    const objective = (x: Float64Array, g: Float64Array) => {
      const [u, v] = x;
      g[0] = -2 * (1 - u) - 400 * u * (v - u * u);
      g[1] = 200 * (v - u * u);
      return (1 - u) ** 2 + 100 * (v - u * u) ** 2;
    };
    const r = await minimizeLbfgs(objective, Float64Array.from([-1.2, 1]), {
      gradientTolerance: 1e-8,
      functionTolerance: 0,
      maxIterations: 500,
    });
    expect(r.stop).toBe('gradient');
    expect(r.x[0]).toBeCloseTo(1, 5);
    expect(r.x[1]).toBeCloseTo(1, 5);
    expect(r.f).toBeLessThan(1e-10);
  });

  it('stops when the callback returns false, and at maxIterations', async () => {
    const objective = (x: Float64Array, g: Float64Array) => {
      let f = 0;
      for (let i = 0; i < x.length; i++) {
        const w = i + 1;
        g[i] = w * (x[i] - 3);
        f += 0.5 * w * (x[i] - 3) ** 2;
      }
      return f;
    };
    const seen: number[] = [];
    const r = await minimizeLbfgs(objective, new Float64Array(20), {
      onIteration: (it) => {
        seen.push(it.iteration);
        return it.iteration < 2;
      },
    });
    expect(r.stop).toBe('callback');
    expect(seen).toEqual([1, 2]);
    const capped = await minimizeLbfgs(objective, new Float64Array(20), {
      maxIterations: 1,
      gradientTolerance: 0,
    });
    expect(capped.stop).toBe('maxIterations');
    expect(capped.iterations).toBe(1);
  });
});
