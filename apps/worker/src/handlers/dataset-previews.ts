import sharp from 'sharp';
import type { ImageShardIndex, IndexedSample } from '@modelsmith/datasets';
import { keys, type ObjectStore } from '@modelsmith/storage';

export const PREVIEWS_PER_CLASS = 8;

/** Picks up to `perClass` samples of each class, in index order. */
export function pickPreviewSamples(
  samples: readonly IndexedSample[],
  perClass: number,
): Map<number, IndexedSample[]> {
  const picked = new Map<number, IndexedSample[]>();
  for (const s of samples) {
    if (s.label === null) continue;
    const list = picked.get(s.label) ?? [];
    if (list.length < perClass) {
      list.push(s);
      picked.set(s.label, list);
    }
  }
  return picked;
}

/** Writes PNG thumbnails of a few preprocessed samples per class, for the dataset preview. Returns how many. */
export async function writePreviews(
  store: ObjectStore,
  index: ImageShardIndex,
  tenantId: string,
  datasetId: string,
  versionId: string,
): Promise<number> {
  const picked = pickPreviewSamples(index.samples, PREVIEWS_PER_CLASS);
  const byShard = new Map<number, { sample: IndexedSample; classIndex: number; n: number }[]>();
  for (const [classIndex, list] of picked) {
    list.forEach((sample, n) =>
      byShard.set(sample.shard, [...(byShard.get(sample.shard) ?? []), { sample, classIndex, n }]),
    );
  }
  let written = 0;
  for (const [shard, items] of byShard) {
    const bytes = await store.getBytes(index.shards[shard].key);
    for (const { sample, classIndex, n } of items) {
      const start = sample.offset * index.recordBytes;
      const raw = bytes.subarray(start, start + index.recordBytes);
      const png = await sharp(raw, {
        raw: { width: index.width, height: index.height, channels: index.channels },
      })
        .png()
        .toBuffer();
      await store.putBytes(
        keys.datasetPreview(tenantId, datasetId, versionId, classIndex, n),
        png,
        'image/png',
      );
      written++;
    }
  }
  return written;
}
