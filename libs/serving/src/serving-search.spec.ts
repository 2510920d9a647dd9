import { passCostAt, searchServingConfig, seededRandom, simulateServing } from './serving-search';

/** A model whose pass costs 2 ms plus 0.5 ms per image: batching pays. */
const COSTS = [1, 2, 4, 8, 16, 32].map((size) => ({ size, passMs: 2 + 0.5 * size }));

describe('passCostAt', () => {
  it('returns measured sizes, interpolates between them and extrapolates past the largest', () => {
    const costs = [
      { size: 1, passMs: 2 },
      { size: 4, passMs: 5 },
      { size: 8, passMs: 7 },
    ];
    expect(passCostAt(costs, 4)).toBe(5);
    expect(passCostAt(costs, 2)).toBeCloseTo(3, 9);
    expect(passCostAt(costs, 6)).toBeCloseTo(6, 9);
    expect(passCostAt(costs, 16)).toBeCloseTo(11, 9);
    expect(passCostAt([{ size: 2, passMs: 4 }], 8)).toBeCloseTo(16, 9);
  });
});

describe('simulateServing', () => {
  it('matches the M/D/1 mean time in system for batch size 1 (Pollaczek-Khinchine)', () => {
    const D = 4; // ms per pass
    for (const rho of [0.3, 0.6, 0.8]) {
      const rps = (rho * 1000) / D;
      const r = simulateServing({
        rps,
        replicas: 1,
        maxBatchSize: 1,
        maxBatchWaitMs: 0,
        costs: [{ size: 1, passMs: D }],
        requests: 200_000,
        seed: 7,
      });
      const expected = D + (rho * D) / (2 * (1 - rho));
      expect(Math.abs(r.meanMs - expected) / expected).toBeLessThan(0.05);
      expect(r.utilisation).toBeCloseTo(rho, 1);
      expect(r.meanBatchSize).toBe(1);
      expect(r.saturated).toBe(false);
    }
  });

  it('is deterministic under a seed and varies with it', () => {
    const config = {
      rps: 400,
      replicas: 2,
      maxBatchSize: 8,
      maxBatchWaitMs: 2,
      costs: COSTS,
      requests: 5_000,
    };
    const a = simulateServing({ ...config, seed: 3 });
    expect(simulateServing({ ...config, seed: 3 })).toEqual(a);
    expect(simulateServing({ ...config, seed: 4 }).p99Ms).not.toBe(a.p99Ms);
  });

  it('batching keeps up under a load that batch size 1 cannot serve', () => {
    // Batch 1: 2.5 ms a request, at most 400 requests/s. Batch 32: 18 ms for 32, ~1,780 requests/s.
    const base = { rps: 1_000, replicas: 1, maxBatchWaitMs: 0, costs: COSTS, requests: 20_000, seed: 1 };
    const single = simulateServing({ ...base, maxBatchSize: 1 });
    const batched = simulateServing({ ...base, maxBatchSize: 32 });
    expect(single.saturated).toBe(true);
    expect(single.throughputRps).toBeLessThan(420);
    expect(batched.saturated).toBe(false);
    expect(batched.throughputRps).toBeGreaterThan(950);
    expect(batched.meanBatchSize).toBeGreaterThan(1.5);
    expect(batched.p99Ms).toBeLessThan(single.p99Ms / 10);
  });

  it('a wait adds about that much latency at light load, and replicas share the load', () => {
    const base = { rps: 20, replicas: 1, maxBatchSize: 8, costs: COSTS, requests: 5_000, seed: 2 };
    const noWait = simulateServing({ ...base, maxBatchWaitMs: 0 });
    const wait = simulateServing({ ...base, maxBatchWaitMs: 10 });
    expect(wait.p50Ms - noWait.p50Ms).toBeGreaterThan(8);
    expect(wait.p50Ms - noWait.p50Ms).toBeLessThan(10.5);
    const one = simulateServing({ ...base, rps: 300, maxBatchSize: 1, maxBatchWaitMs: 0 });
    const three = simulateServing({ ...base, rps: 300, replicas: 3, maxBatchSize: 1, maxBatchWaitMs: 0 });
    expect(three.utilisation).toBeCloseTo(one.utilisation / 3, 1);
    expect(three.p99Ms).toBeLessThan(one.p99Ms);
  });

  it('queues requests on the request thread: M/D/1 there when passes cost next to nothing', () => {
    // Passes of 1 microsecond at any size: the request thread (0.5 ms a request) is the only queue.
    const D = 0.5;
    const free = [1, 32].map((size) => ({ size, passMs: 1e-3 }));
    for (const rho of [0.3, 0.7]) {
      const r = simulateServing({
        rps: (rho * 1000) / D,
        replicas: 1,
        maxBatchSize: 32,
        maxBatchWaitMs: 0,
        costs: free,
        requestMs: D,
        requests: 100_000,
        seed: 3,
      });
      const expected = D + (rho * D) / (2 * (1 - rho));
      expect(Math.abs(r.meanMs - expected) / expected).toBeLessThan(0.05);
      expect(r.saturated).toBe(false);
    }
    // Above 1000 / requestMs requests/s a replica falls behind, however cheap and large its batches.
    const over = simulateServing({
      rps: 2_400,
      replicas: 1,
      maxBatchSize: 32,
      maxBatchWaitMs: 0,
      costs: free,
      requestMs: D,
      requests: 20_000,
    });
    expect(over.saturated).toBe(true);
    expect(over.throughputRps).toBeLessThan(2_100);
  });

  it('refuses nonsense', () => {
    const ok = { rps: 10, replicas: 1, maxBatchSize: 1, maxBatchWaitMs: 0, costs: COSTS };
    expect(() => simulateServing({ ...ok, requestMs: -1 })).toThrow(RangeError);
    expect(() => simulateServing({ ...ok, rps: 0 })).toThrow(RangeError);
    expect(() => simulateServing({ ...ok, replicas: 0 })).toThrow(RangeError);
    expect(() => simulateServing({ ...ok, maxBatchWaitMs: -1 })).toThrow(RangeError);
    expect(() => simulateServing({ ...ok, costs: [] })).toThrow(RangeError);
  });
});

describe('searchServingConfig', () => {
  it('meets the objective with the fewest replicas, batching under load', () => {
    const out = searchServingConfig({ p99Ms: 60, rps: 1_000, costs: COSTS, requests: 5_000, seed: 1 });
    expect(out.feasible).toBe(true);
    if (!out.feasible) return;
    expect(out.choice.replicas).toBe(1);
    expect(out.choice.maxBatchSize).toBeGreaterThan(1);
    expect(out.choice.predicted.p99Ms).toBeLessThanOrEqual(60);
  });

  it('adds replicas when one cannot meet the objective', () => {
    // Batch 1 only: 2.5 ms a request, 400 requests/s a replica at most; 1,000 requests/s need 3.
    const out = searchServingConfig({
      p99Ms: 20,
      rps: 1_000,
      costs: COSTS,
      maxBatchSize: 1,
      requests: 5_000,
      seed: 1,
    });
    expect(out.feasible).toBe(true);
    if (!out.feasible) return;
    expect(out.choice.replicas).toBeGreaterThanOrEqual(3);
    expect(out.choice.predicted.p99Ms).toBeLessThanOrEqual(20);
  });

  it('explains an objective below one pass', () => {
    const out = searchServingConfig({ p99Ms: 1, rps: 10, costs: COSTS, requests: 2_000, maxReplicas: 2 });
    expect(out.feasible).toBe(false);
    if (out.feasible) return;
    expect(out.reason).toMatch(/one image alone takes 2.5 ms/);
    expect(out.best.predicted.p99Ms).toBeGreaterThan(1);
  });

  it('keeps headroom: a configuration that only just meets the objective at the rate is passed over', () => {
    const base = { p99Ms: 20, rps: 600, costs: COSTS, maxBatchSize: 1, requests: 5_000, seed: 1 };
    const tight = searchServingConfig({ ...base, headroom: 0 });
    const roomy = searchServingConfig(base);
    expect(tight.feasible && roomy.feasible).toBe(true);
    if (!tight.feasible || !roomy.feasible) return;
    expect(roomy.choice.replicas).toBeGreaterThan(tight.choice.replicas);
    // The prediction reported is at the rate asked for.
    expect(roomy.choice.predicted.throughputRps).toBeGreaterThan(560);
    expect(roomy.choice.predicted.throughputRps).toBeLessThan(640);
  });

  it('counts the request thread: a rate it cannot pass is infeasible on one replica and takes more', () => {
    // Passes nearly free (batch 32 in 0.1 ms: 320,000 images/s), but 0.2 ms of decoding per request.
    const cheap = [1, 32].map((size) => ({ size, passMs: 0.02 + 0.0025 * size }));
    const base = { p99Ms: 20, rps: 8_000, costs: cheap, requestMs: 0.2, requests: 20_000, seed: 1 };
    const one = searchServingConfig({ ...base, maxReplicas: 1 });
    expect(one.feasible).toBe(false);
    if (one.feasible) return;
    expect(one.reason).toMatch(/cannot keep up/);
    const more = searchServingConfig(base);
    expect(more.feasible).toBe(true);
    if (!more.feasible) return;
    // 8,000 x 1.25 requests/s at 5,000 a replica: 2 at least.
    expect(more.choice.replicas).toBeGreaterThanOrEqual(2);
    // Without the stage the same passes would take it on one replica.
    const passesOnly = searchServingConfig({ ...base, requestMs: 0 });
    expect(passesOnly.feasible && passesOnly.choice.replicas).toBe(1);
  });

  it('is deterministic', () => {
    const req = { p99Ms: 30, rps: 500, costs: COSTS, requests: 3_000, seed: 9 };
    expect(searchServingConfig(req)).toEqual(searchServingConfig(req));
  });
});

describe('seededRandom', () => {
  it('gives uniform floats in [0, 1)', () => {
    const r = seededRandom(5);
    const values = Array.from({ length: 10_000 }, () => r());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(values.reduce((a, b) => a + b, 0) / values.length).toBeCloseTo(0.5, 1);
  });
});
