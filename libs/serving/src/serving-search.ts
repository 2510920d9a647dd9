/**
 * Serving search: a discrete-event simulator of micro-batched serving, calibrated from a model's
 * measured forward-pass cost per batch size, and a search over (maxBatchSize, maxBatchWaitMs,
 * replicas) for the configuration that meets a p99 latency objective at an expected request rate.
 * Pure logic (no tfjs, no I/O): the API runs it at tune time, specs check it against queueing theory.
 */

/** Measured cost of one forward pass of `size` images (ms), e.g. from calibrateBatches' passMs. */
export interface PassCost {
  size: number;
  passMs: number;
}

export interface SimulationConfig {
  /** Requests per second arriving (Poisson), over all replicas. One image per request. */
  rps: number;
  replicas: number;
  maxBatchSize: number;
  maxBatchWaitMs: number;
  /** Pass cost per batch size; sizes between two measured ones are interpolated linearly. */
  costs: readonly PassCost[];
  /** Fixed latency added to every request outside the batcher (request parsing, decoding, answer): ms. Default 0. */
  overheadMs?: number;
  /**
   * Work per request on the replica's request thread before it joins the batcher (body parsing,
   * base64, image decode and resize: what calibration's requestMs measures), ms. A serial stage: one
   * request at a time per replica, so it queues, and it caps a replica at 1000 / requestMs requests/s
   * however cheap the model's passes are. Default 0.
   */
  requestMs?: number;
  /** Requests simulated (after the warm-up ones); default 20,000. */
  requests?: number;
  /** Requests simulated first and left out of the statistics; default 10% of `requests`. */
  warmupRequests?: number;
  seed?: number;
}

export interface SimulationResult {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Share of time the replicas' forward passes were running (mean over replicas). */
  utilisation: number;
  meanBatchSize: number;
  /** Requests per second answered during the measured window (below `rps` when overloaded). */
  throughputRps: number;
  /** True when the queue grew without bound (offered load above the best throughput): p99 then depends on the run length. */
  saturated: boolean;
}

/** mulberry32: a small seeded PRNG, floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The pass cost at `size` images: measured sizes interpolated linearly, extrapolated from the two largest (or per image from one). */
export function passCostAt(costs: readonly PassCost[], size: number): number {
  const sorted = [...costs].sort((a, b) => a.size - b.size);
  if (sorted.length === 0) throw new RangeError('costs must hold at least one measured batch size');
  const exact = sorted.find((c) => c.size === size);
  if (exact) return exact.passMs;
  if (sorted.length === 1) return (sorted[0].passMs * size) / sorted[0].size;
  let lo = sorted[0];
  let hi = sorted[1];
  for (let i = 1; i < sorted.length; i++) {
    lo = sorted[i - 1];
    hi = sorted[i];
    if (hi.size >= size) break;
  }
  if (size < sorted[0].size) [lo, hi] = [sorted[0], sorted[1]];
  const slope = (hi.passMs - lo.passMs) / (hi.size - lo.size);
  return Math.max(1e-3, lo.passMs + slope * (size - lo.size));
}

function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Simulates Poisson arrivals at `rps` routed uniformly at random to `replicas` (as a Kubernetes
 * Service's iptables mode does), each replica one micro-batcher in front of one forward-pass runner,
 * with the serving engine's rules (MicroBatcher with one batch at a time): an idle replica's first
 * queued request waits up to maxBatchWaitMs for others; a full batch (maxBatchSize) starts at once;
 * when a pass ends, whatever queued meanwhile starts at once (up to maxBatchSize). Before the batcher
 * each request passes the replica's request thread (requestMs, first come first served). A request's
 * latency is its wait there, requestMs, its wait in the batcher, its batch's pass and overheadMs. Random routing splits a Poisson stream into
 * independent Poisson streams of rps/replicas, so each replica is simulated on its own.
 */
export function simulateServing(config: SimulationConfig): SimulationResult {
  const { rps, replicas } = config;
  if (!(rps > 0) || !Number.isFinite(rps)) throw new RangeError('rps must be a positive number');
  if (!Number.isInteger(replicas) || replicas < 1) throw new RangeError('replicas must be an integer >= 1');
  const total = config.requests ?? 20_000;
  const warmup = config.warmupRequests ?? Math.floor(total / 10);
  return simulateOn(poissonArrivals(rps, replicas, total + warmup, config.seed ?? 1), warmup, config);
}

/** A Poisson stream routed at random: per replica its arrival times (ms), and per request (in arrival order) its replica and index there. */
interface Arrivals {
  perReplica: Float64Array[];
  replicaOf: Uint32Array;
  indexOf: Uint32Array;
  end: number;
}

function poissonArrivals(rps: number, replicas: number, n: number, seed: number): Arrivals {
  const random = seededRandom(seed);
  const meanGapMs = 1000 / rps;
  const replicaOf = new Uint32Array(n);
  const indexOf = new Uint32Array(n);
  const times = new Float64Array(n);
  const counts = new Uint32Array(replicas);
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += -Math.log(1 - random()) * meanGapMs;
    const r = replicas === 1 ? 0 : Math.floor(random() * replicas);
    times[i] = t;
    replicaOf[i] = r;
    indexOf[i] = counts[r]++;
  }
  const perReplica = Array.from({ length: replicas }, (_, r) => new Float64Array(counts[r]));
  for (let i = 0; i < n; i++) perReplica[replicaOf[i]][indexOf[i]] = times[i];
  return { perReplica, replicaOf, indexOf, end: t };
}

function simulateOn(arrivals: Arrivals, warmup: number, config: SimulationConfig): SimulationResult {
  const { rps, replicas, maxBatchSize, maxBatchWaitMs } = config;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1)
    throw new RangeError('maxBatchSize must be an integer >= 1');
  if (!(maxBatchWaitMs >= 0) || !Number.isFinite(maxBatchWaitMs))
    throw new RangeError('maxBatchWaitMs must be >= 0');
  const overhead = config.overheadMs ?? 0;
  const requestMs = config.requestMs ?? 0;
  if (!(requestMs >= 0) || !Number.isFinite(requestMs)) throw new RangeError('requestMs must be >= 0');
  const cost = new Float64Array(maxBatchSize + 1);
  for (let s = 1; s <= maxBatchSize; s++) cost[s] = passCostAt(config.costs, s);
  const { perReplica, replicaOf, indexOf, end } = arrivals;
  const n = replicaOf.length;
  const measuredFrom = warmup < n ? perReplica[replicaOf[warmup]][indexOf[warmup]] : end;
  const latencies: Float64Array[] = [];
  let busyMs = 0;
  let batches = 0;
  let batchedItems = 0;
  let tailSum = 0;
  let tailCount = 0;
  for (let r = 0; r < replicas; r++) {
    const arrived = perReplica[r];
    const count = arrived.length;
    // When each request leaves the request thread and joins the batcher (in arrival order).
    const times = new Float64Array(count);
    for (let i = 0, threadFree = 0; i < count; i++)
      threadFree = times[i] = Math.max(arrived[i], threadFree) + requestMs;
    const lat = new Float64Array(count);
    let next = 0; // first request not yet in a batch
    let free = 0; // when the runner is next free
    while (next < count) {
      const first = times[next];
      let start: number;
      if (first >= free) {
        // Idle runner: the first request waits for others, up to maxBatchWaitMs or a full batch.
        const fullAt = next + maxBatchSize - 1 < count ? times[next + maxBatchSize - 1] : Infinity;
        start = maxBatchWaitMs <= 0 ? first : Math.min(first + maxBatchWaitMs, fullAt);
      } else {
        // Busy runner: what queued by the end of the pass starts then.
        start = free;
      }
      let last = next;
      while (last + 1 < count && last + 1 - next < maxBatchSize && times[last + 1] <= start) last++;
      const size = last - next + 1;
      const done = start + cost[size];
      for (let i = next; i <= last; i++) lat[i] = done - arrived[i] + overhead;
      // Time and batches inside the measured window count for utilisation and throughput.
      if (start >= measuredFrom && done <= end) {
        busyMs += cost[size];
        batches++;
        batchedItems += size;
      }
      free = done;
      next = last + 1;
    }
    const tailFrom = count - Math.max(1, Math.floor(count / 20));
    for (let i = Math.max(0, tailFrom); i < count; i++) {
      tailSum += lat[i];
      tailCount++;
    }
    latencies.push(lat);
  }
  const measured = new Float64Array(Math.max(0, n - warmup));
  for (let i = warmup; i < n; i++) measured[i - warmup] = latencies[replicaOf[i]][indexOf[i]];
  measured.sort();
  let sum = 0;
  for (const v of measured) sum += v;
  const mean = sum / Math.max(1, measured.length);
  const windowMs = Math.max(1e-9, end - measuredFrom);
  const utilisation = busyMs / (windowMs * replicas);
  // Saturated: fewer answered than arrived, or the last requests waited far longer than the mean (the
  // queue kept growing). Not utilisation: a batching replica can be busy all the time and keep up.
  const tailMean = tailSum / Math.max(1, tailCount);
  const throughputRps = (batchedItems * 1000) / windowMs;
  const saturated = throughputRps < 0.95 * rps || tailMean > 4 * mean + 10 * cost[maxBatchSize];
  return {
    p50Ms: percentile(measured, 50),
    p99Ms: percentile(measured, 99),
    meanMs: mean,
    utilisation: Math.min(1, utilisation),
    meanBatchSize: batches > 0 ? batchedItems / batches : 0,
    throughputRps,
    saturated,
  };
}

export interface SearchRequest {
  /** p99 latency objective, ms. */
  p99Ms: number;
  /** Expected requests per second (one image each). */
  rps: number;
  costs: readonly PassCost[];
  /** Largest batch size to consider (the serving cap); default the largest measured size. */
  maxBatchSize?: number;
  /** Most replicas to consider; default 16. */
  maxReplicas?: number;
  /** Wait times to consider, ms; default 0, 1, 2, 5, 10, 20, 50 (those below the objective). */
  waits?: readonly number[];
  overheadMs?: number;
  /** The request thread's work per request (see SimulationConfig.requestMs). */
  requestMs?: number;
  /**
   * Load headroom: a configuration qualifies only if it meets the objective at rps x (1 + headroom)
   * too (default 0.25), so a calibration that was a little optimistic or a busier hour does not put
   * it over the objective at once. The reported prediction is at `rps`.
   */
  headroom?: number;
  requests?: number;
  seed?: number;
}

export interface ServingChoice {
  maxBatchSize: number;
  maxBatchWaitMs: number;
  replicas: number;
  predicted: SimulationResult;
}

export type SearchOutcome =
  | { feasible: true; choice: ServingChoice; evaluated: number }
  | {
      feasible: false;
      /** The lowest p99 found (at the most replicas considered), for the explanation. */
      best: ServingChoice;
      evaluated: number;
      reason: string;
    };

const DEFAULT_WAITS = [0, 1, 2, 5, 10, 20, 50];

/**
 * The configuration that meets `p99Ms` at `rps` with the fewest replicas, then the lowest predicted
 * p99 (then the smaller batch size and wait, for equal p99s). A grid: replicas from 1 up (the first
 * count where some configuration meets the objective ends the search), batch sizes 1, 2, 4, ... up to
 * the cap, and the listed waits below the objective. Saturated configurations never qualify. Every
 * configuration is simulated with the same seed (common random numbers), so differences between them
 * are not sampling noise.
 */
export function searchServingConfig(req: SearchRequest): SearchOutcome {
  if (!(req.p99Ms > 0) || !Number.isFinite(req.p99Ms))
    throw new RangeError('p99Ms must be a positive number');
  const measuredMax = Math.max(...req.costs.map((c) => c.size));
  const cap = Math.max(1, Math.floor(req.maxBatchSize ?? measuredMax));
  const sizes: number[] = [];
  for (let s = 1; s < cap; s *= 2) sizes.push(s);
  sizes.push(cap);
  const waits = (req.waits ?? DEFAULT_WAITS).filter((w) => w >= 0 && w < req.p99Ms);
  if (waits.length === 0) waits.push(0);
  const maxReplicas = req.maxReplicas ?? 16;
  const headroom = req.headroom ?? 0.25;
  if (!(headroom >= 0) || !Number.isFinite(headroom)) throw new RangeError('headroom must be >= 0');
  const requestMs = req.requestMs ?? 0;
  let evaluated = 0;
  let overallBest: ServingChoice | undefined;
  const better = (a: ServingChoice, b: ServingChoice | undefined) =>
    !b ||
    (a.predicted.saturated ? 1 : 0) < (b.predicted.saturated ? 1 : 0) ||
    ((a.predicted.saturated ? 1 : 0) === (b.predicted.saturated ? 1 : 0) &&
      a.predicted.p99Ms < b.predicted.p99Ms - 1e-9);
  for (let replicas = 1; replicas <= maxReplicas; replicas++) {
    // A replica count whose best throughput (largest batch, back to back) is below the rate cannot keep up.
    // The request thread caps it too.
    const passRate = Math.max(...sizes.map((s) => (s * 1000) / passCostAt(req.costs, s)));
    const threadRate = requestMs > 0 ? 1000 / requestMs : Infinity;
    const bestRate = Math.min(passRate, threadRate) * replicas;
    if (bestRate < req.rps * (1 + headroom) && replicas < maxReplicas) continue;
    let best: ServingChoice | undefined;
    const total = req.requests ?? 20_000;
    const warmup = Math.floor(total / 10);
    const arrivals = poissonArrivals(req.rps * (1 + headroom), replicas, total + warmup, req.seed ?? 1);
    for (const maxBatchSize of sizes) {
      for (const maxBatchWaitMs of waits) {
        const predicted = simulateOn(arrivals, warmup, {
          rps: req.rps * (1 + headroom),
          replicas,
          maxBatchSize,
          maxBatchWaitMs,
          costs: req.costs,
          overheadMs: req.overheadMs,
          requestMs,
        });
        evaluated++;
        const choice = { maxBatchSize, maxBatchWaitMs, replicas, predicted };
        if (better(choice, best)) best = choice;
      }
    }
    if (!best) continue;
    if (better(best, overallBest)) overallBest = best;
    if (!best.predicted.saturated && best.predicted.p99Ms <= req.p99Ms) {
      // What the chosen configuration gives at the expected rate itself.
      const atRate = simulateServing({
        rps: req.rps,
        replicas,
        maxBatchSize: best.maxBatchSize,
        maxBatchWaitMs: best.maxBatchWaitMs,
        costs: req.costs,
        overheadMs: req.overheadMs,
        requestMs,
        requests: total,
        seed: req.seed,
      });
      return { feasible: true, choice: { ...best, predicted: atRate }, evaluated: evaluated + 1 };
    }
  }
  const best = overallBest!;
  const single = passCostAt(req.costs, 1) + requestMs + (req.overheadMs ?? 0);
  const reason =
    single > req.p99Ms
      ? `one image alone takes ${round(single)} ms on this model (its request's decoding and a forward pass of batch 1), above the objective of ${req.p99Ms} ms: no batching or replica count can meet it`
      : best.predicted.saturated
        ? `${maxReplicas} replicas cannot keep up with ${req.rps} requests/s plus ${Math.round(headroom * 100)}% headroom (best predicted throughput ${round(best.predicted.throughputRps)} requests/s)`
        : `the lowest predicted p99 with up to ${maxReplicas} replicas at ${req.rps} requests/s plus ${Math.round(headroom * 100)}% headroom is ${round(best.predicted.p99Ms)} ms (batch ${best.maxBatchSize}, wait ${best.maxBatchWaitMs} ms, ${best.replicas} replicas), above the objective of ${req.p99Ms} ms`;
  return { feasible: false, best, evaluated, reason };
}

/** 0.1 steps, 0.01 below 1 (a tiny model's costs would read 0). */
function round(v: number): number {
  return v < 1 ? Math.round(v * 100) / 100 : Math.round(v * 10) / 10;
}
