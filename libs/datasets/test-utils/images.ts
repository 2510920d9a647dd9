import sharp from 'sharp';

/** A solid-colour image with a noise pattern (so files differ), encoded as PNG or JPEG. */
export async function noiseImage(
  width: number,
  height: number,
  seed: number,
  format: 'png' | 'jpeg' = 'png',
): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    px[i] = s >>> 24;
  }
  const img = sharp(px, { raw: { width, height, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}

/** A small valid PNG whose IHDR then claims width x height (a decompression bomb header). */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await noiseImage(16, 16, 7, 'png'));
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  return png;
}

/** A JPEG cut at `fraction` of its length. */
export async function truncatedJpeg(fraction = 0.6): Promise<Buffer> {
  const jpeg = await noiseImage(128, 128, 3, 'jpeg');
  return jpeg.subarray(0, Math.floor(jpeg.length * fraction));
}

/** A 40x20 JPEG (left half white, right half black) tagged with an EXIF orientation. */
export async function orientedJpeg(orientation: number): Promise<Buffer> {
  const px = Buffer.alloc(40 * 20 * 3);
  for (let y = 0; y < 20; y++)
    for (let x = 0; x < 20; x++) px.fill(255, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3);
  return sharp(px, { raw: { width: 40, height: 20, channels: 3 } })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation })
    .toBuffer();
}
