import sharp from 'sharp';
import { preprocessImage, type ExportManifest } from '@modelsmith/ml';
import { calibrateRequestCost, type RequestCost } from './calibrate';
import { seededRandom } from './serving-search';

/**
 * What one predict request of one image costs the serving app's request thread on this machine,
 * outside the batched forward pass: parsing the JSON body, base64-decoding the image, decoding and
 * fitting it as the model was trained (preprocessImage, the serving engine's path) and writing the
 * answer. The image is a PNG of noise at the model's input size (noise does not compress: a
 * worst-ish case for the decoder among images of that size). HTTP framing is not included, so this
 * is a lower bound of the real per-request cost. The serving search models it as a serial stage per
 * replica (SimulationConfig.requestMs).
 */
export async function measureRequestCost(
  manifest: Pick<ExportManifest, 'input' | 'normalization' | 'classNames'>,
  options: { budgetMs?: number; maxInputPixels?: number } = {},
): Promise<RequestCost> {
  const { input, normalization } = manifest;
  if (input.kind !== 'image' || normalization === null)
    throw new RangeError('the request cost is measured for image models');
  const random = seededRandom(11);
  const pixels = Buffer.alloc(input.height * input.width * input.channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  const png = await sharp(pixels, {
    raw: { width: input.width, height: input.height, channels: input.channels },
  })
    .png()
    .toBuffer();
  const body = JSON.stringify({ images: [png.toString('base64')] });
  const spec = { height: input.height, width: input.width, channels: input.channels, normalization };
  const top = manifest.classNames.slice(0, 5);
  return calibrateRequestCost(
    async () => {
      const parsed = JSON.parse(body) as { images: string[] };
      const bytes = Buffer.from(parsed.images[0], 'base64');
      const image = await preprocessImage(bytes, spec, {
        fit: input.fit,
        ...(options.maxInputPixels ? { maxInputPixels: options.maxInputPixels } : {}),
        ...(input.trainedFrom ? { trainedFrom: input.trainedFrom } : {}),
      });
      JSON.stringify({
        predictions: [{ label: top[0], scores: top.map((label, i) => ({ label, score: image.data[i] })) }],
      });
    },
    { budgetMs: options.budgetMs },
  );
}
