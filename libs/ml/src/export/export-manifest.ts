import { z } from 'zod';
import { testTimeViewsSchema } from '../preprocess/image-views';
import { normalizationSchema } from '../preprocess/normalization';

export const EXPORT_MANIFEST_FILE = 'manifest.json';
export const EXPORT_FORMAT_VERSION = 1;

const dimension = z.number().int().min(1).max(4096);

export const exportedFileSchema = z.object({
  path: z.string().min(1).max(512),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex sha256'),
});

export const exportInputSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('image'),
    height: dimension,
    width: dimension,
    channels: z.union([z.literal(1), z.literal(3)]),
    /** How images were fitted to height x width in training (see preprocess FitPolicy). */
    fit: z.enum(['cover', 'contain', 'fill']),
    /**
     * The resolution of the dataset's image cache the model trained from, when it differs from
     * height x width: images are fitted to it, then resized bilinearly to height x width, as in
     * training (preprocessImage's `trainedFrom`).
     */
    trainedFrom: z.object({ height: dimension, width: dimension }).optional(),
  }),
  z.object({ kind: z.literal('tabular'), features: z.array(z.string().min(1).max(200)).min(1).max(10_000) }),
]);

/**
 * manifest.json, written next to model.json: makes a downloaded model self-describing and lets a
 * loader check every file before using it.
 */
export const exportManifestSchema = z
  .object({
    format: z.literal('modelsmith-model'),
    formatVersion: z.literal(EXPORT_FORMAT_VERSION),
    task: z.enum(['image-classification', 'tabular-classification']),
    input: exportInputSchema,
    /** Pixel normalization for image models; null for tabular ones. */
    normalization: normalizationSchema.nullable(),
    classNames: z.array(z.string().min(1).max(200)).min(2).max(10_000),
    /**
     * Test-time averaging (image models): the class probabilities are the model's softmax averaged
     * over the preprocessed image and each of these views of it (`mirror`: columns reversed; `gray`:
     * the luma, 0.299 R + 0.587 G + 0.114 B of the pixel values, in all three channels, normalized
     * again). Absent or empty: the image alone (every manifest written before the field existed).
     */
    tta: testTimeViewsSchema.optional(),
    backboneId: z.string().min(1).max(100).nullable(),
    /** Summary metrics on the held-out split (e.g. accuracy, macroF1). */
    metrics: z.record(z.string().min(1).max(100), z.number().finite()),
    createdAt: z.iso.datetime(),
    framework: z.object({ name: z.literal('tensorflow.js'), version: z.string().max(50) }),
    modelFile: z.literal('model.json'),
    files: z.array(exportedFileSchema).min(2).max(2048),
  })
  .superRefine((manifest, ctx) => {
    const imageTask = manifest.task === 'image-classification';
    if (imageTask !== (manifest.input.kind === 'image')) {
      ctx.addIssue({
        code: 'custom',
        path: ['input', 'kind'],
        message: `input kind ${manifest.input.kind} does not fit task ${manifest.task}`,
      });
    }
    if (!imageTask && manifest.tta?.length)
      ctx.addIssue({ code: 'custom', path: ['tta'], message: 'test-time views are for image models' });
    if (imageTask && manifest.normalization === null) {
      ctx.addIssue({ code: 'custom', path: ['normalization'], message: 'image models need a normalization' });
    }
    const paths = manifest.files.map((file) => file.path);
    if (new Set(paths).size !== paths.length)
      ctx.addIssue({ code: 'custom', path: ['files'], message: 'a file is listed twice' });
    if (!paths.includes(manifest.modelFile))
      ctx.addIssue({ code: 'custom', path: ['files'], message: 'model.json is not listed' });
    if (new Set(manifest.classNames).size !== manifest.classNames.length) {
      ctx.addIssue({ code: 'custom', path: ['classNames'], message: 'class names must be unique' });
    }
  });

export type ExportManifest = z.infer<typeof exportManifestSchema>;
export type ExportInput = z.infer<typeof exportInputSchema>;
export type ExportedFile = z.infer<typeof exportedFileSchema>;
