import type { NumericSummary } from './report-types';

/** Keeps min/max/mean exactly and percentiles from a bounded, evenly thinned sample. */
export class NumericAccumulator {
  private n = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;
  private sample: number[] = [];
  private stride = 1;
  private tick = 0;

  constructor(private readonly maxSample = 10_000) {}

  add(x: number): void {
    this.n += 1;
    this.sum += x;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.tick += 1;
    if (this.tick < this.stride) return;
    this.tick = 0;
    this.sample.push(x);
    if (this.sample.length >= this.maxSample) {
      this.sample = this.sample.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }

  get count(): number {
    return this.n;
  }

  summary(): NumericSummary | null {
    if (this.n === 0) return null;
    const sorted = [...this.sample].sort((a, b) => a - b);
    const pick = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    return { min: this.min, max: this.max, mean: round(this.sum / this.n), p50: pick(0.5), p95: pick(0.95) };
  }
}

export function increment<K extends string>(counts: Partial<Record<K, number>>, key: K, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}
