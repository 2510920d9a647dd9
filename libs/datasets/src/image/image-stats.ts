import type { ImageStats } from '../stats/report-types';
import { increment, NumericAccumulator } from '../stats/summary';
import type { CacheImageSpec } from './decode-image';

const BUCKETS = [32, 64, 128, 256, 512, 1024, 2048];

/** Accumulates statistics of the original images. */
export class ImageStatsAccumulator {
  private readonly widths = new NumericAccumulator();
  private readonly heights = new NumericAccumulator();
  private readonly histogram = new Map<string, number>();
  private readonly formats: Record<string, number> = {};
  private readonly channels: Record<string, number> = {};
  private oriented = 0;
  smallerThanCache = 0;

  constructor(private readonly spec: CacheImageSpec) {
    for (const b of BUCKETS) this.histogram.set(`<=${b}`, 0);
    this.histogram.set(`>${BUCKETS[BUCKETS.length - 1]}`, 0);
  }

  add(width: number, height: number, channels: number, format: string, oriented: boolean): void {
    this.widths.add(width);
    this.heights.add(height);
    const side = Math.max(width, height);
    const bucket = BUCKETS.find((b) => side <= b);
    const key = bucket === undefined ? `>${BUCKETS[BUCKETS.length - 1]}` : `<=${bucket}`;
    this.histogram.set(key, (this.histogram.get(key) ?? 0) + 1);
    increment(this.formats, format);
    increment(this.channels, String(channels));
    if (oriented) this.oriented += 1;
    if (width < this.spec.width || height < this.spec.height) this.smallerThanCache += 1;
  }

  get count(): number {
    return this.widths.count;
  }

  result(): ImageStats {
    return {
      sizeHistogram: [...this.histogram.entries()].map(([bucket, count]) => ({ bucket, count })),
      width: this.widths.summary(),
      height: this.heights.summary(),
      formats: this.formats,
      channels: this.channels,
      exifOriented: this.oriented,
      cache: { ...this.spec },
    };
  }
}
