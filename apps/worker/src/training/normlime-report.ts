import * as tf from '@tensorflow/tfjs';
import { readShards, type ImageShardIndex, type ShardSource, type Split } from '@modelsmith/datasets';
import {
  normalizePixels,
  normLime,
  type ModelImage,
  type Normalization,
  type NormLimeReport,
} from '@modelsmith/ml';
import { toInputTensor, type BatchShape } from './shard-batches';

/**
 * The NormLIME budget at the end of training: at most IMAGES_PER_CLASS validation images per class
 * (at most MAX_IMAGES in all), SAMPLES perturbed images each over a GRID x GRID grid, and no image
 * started after DEADLINE_MS. The small CNN explains 100 images in a few seconds; MobileNetV2 at
 * 224 px (~30 images/s on one wasm thread) explains ~14 in 30 s: the report says how many.
 */
export const NORMLIME_BUDGET = {
  imagesPerClass: 5,
  maxImages: 100,
  samples: 64,
  grid: 7,
  deadlineMs: 30_000,
} as const;

export interface NormLimeModelReport extends NormLimeReport {
  split: Split;
  /** Why it explains fewer images than NORMLIME_BUDGET (a search's budget bounded it). */
  note?: string;
  classes: Array<NormLimeReport['classes'][number] & { label: string }>;
}

/** Up to `perClass` images of each class of a split, in index order, as model inputs. */
async function sampleImages(
  source: ShardSource,
  index: ImageShardIndex,
  split: Split,
  normalization: Normalization,
  input: BatchShape,
  perClass: number,
  max: number,
): Promise<ModelImage[]> {
  const byClass = new Map<number, ModelImage[]>();
  let count = 0;
  const size = input.height * input.width * input.channels;
  for await (const batch of readShards(source, { split, batch: 32, index })) {
    const x = toInputTensor(batch, normalization, input);
    const values = (await x.data()) as Float32Array;
    x.dispose();
    batch.labels.forEach((label, i) => {
      const list = byClass.get(label) ?? [];
      if (list.length >= perClass) return;
      list.push({
        data: values.slice(i * size, (i + 1) * size),
        shape: [input.height, input.width, input.channels],
      });
      byClass.set(label, list);
      count += 1;
    });
    if (count >= perClass * index.labels.length) break;
  }
  // Classes interleaved, so that the deadline cuts every class short instead of leaving the last ones out.
  const images: ModelImage[] = [];
  for (let k = 0; k < perClass; k++)
    for (const list of byClass.values()) if (k < list.length && images.length < max) images.push(list[k]);
  return images;
}

/** NormLIME (libs/ml `normLime`) of the trained model over a sample of the validation split (or test, or train). */
export async function normLimeReport(
  model: tf.LayersModel,
  source: ShardSource,
  index: ImageShardIndex,
  split: Split,
  normalization: Normalization,
  input: BatchShape,
  bound?: {
    /** At most this many images (fewer than NORMLIME_BUDGET's), classes interleaved. */
    maxImages?: number;
    /** No image started once `now()` reaches `at` (a search's clock and deadline). */
    deadline?: { at: number; now: () => number };
    note?: string;
  },
): Promise<NormLimeModelReport> {
  const images = await sampleImages(
    source,
    index,
    split,
    normalization,
    input,
    NORMLIME_BUDGET.imagesPerClass,
    Math.min(NORMLIME_BUDGET.maxImages, bound?.maxImages ?? Infinity),
  );
  const black = Array.from(normalizePixels(new Uint8Array(input.channels), input.channels, normalization));
  const report = await normLime(model, images, index.labels.length, {
    grid: { rows: NORMLIME_BUDGET.grid, cols: NORMLIME_BUDGET.grid },
    samples: NORMLIME_BUDGET.samples,
    baseline: black,
    deadline: Date.now() + NORMLIME_BUDGET.deadlineMs,
    ...(bound?.deadline ? { deadlines: [bound.deadline] } : {}),
  });
  return {
    ...report,
    split,
    ...(bound?.note ? { note: bound.note } : {}),
    classes: report.classes.map((c) => ({ ...c, label: index.labels[c.classIndex] ?? String(c.classIndex) })),
  };
}
