/** A fixed-size, evenly thinned sample of a numeric stream, turned into a histogram at the end. */
export class HistogramSampler {
  private sample: number[] = [];
  private stride = 1;
  private tick = 0;
  private n = 0;

  constructor(private readonly maxSample = 20_000) {}

  add(x: number): void {
    this.n += 1;
    this.tick += 1;
    if (this.tick < this.stride) return;
    this.tick = 0;
    this.sample.push(x);
    if (this.sample.length >= this.maxSample) {
      this.sample = this.sample.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }

  /** `bins` equal-width bins between min and max; counts scaled to the number of values seen. */
  histogram(min: number, max: number, bins = 10): { from: number; to: number; count: number }[] {
    if (this.sample.length === 0) return [];
    const width = max > min ? (max - min) / bins : 1;
    const counts = new Array<number>(bins).fill(0);
    for (const x of this.sample) counts[Math.min(bins - 1, Math.max(0, Math.floor((x - min) / width)))] += 1;
    const scale = this.n / this.sample.length;
    return counts.map((c, i) => ({
      from: min + i * width,
      to: min + (i + 1) * width,
      count: Math.round(c * scale),
    }));
  }
}
