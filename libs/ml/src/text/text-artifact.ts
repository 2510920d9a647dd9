import { z } from 'zod';
import { ModelArtifactError } from '../export/artifact-errors';
import { resolveLimits, type ArtifactLimits } from '../export/artifact-limits';
import { assertSafeRelativePath, joinKey } from '../export/artifact-paths';
import type { ArtifactReader, ArtifactWriter } from '../export/artifact-store';
import { EXPORT_FORMAT_VERSION, EXPORT_MANIFEST_FILE } from '../export/export-manifest';
import { sha256Hex } from '../export/sha256';
import { featureConfigSchema, FeatureVocabulary } from './features';
import { LinearSoftmax } from './linear-model';
import { TextClassifier, type TextModel } from './text-classifier';
import { TextCnn, TextCnnClassifier, textCnnConfigSchema, TokenVocabulary } from './text-cnn';

/**
 * A text classifier on disk (and in the object store), next to each other under one prefix:
 *
 * - `text-model.json`: the featurizer (tokenizer rules, hashing, n-grams, TF/IDF weighting), the
 *   class names in output order, and where each array lies in the weights file;
 * - `text-weights.bin`: little-endian arrays back to back: `buckets` (uint32 [F], the hashed feature
 *   ids, ascending), `idf` (float32 [F]), `weights` (float32 [F x C], row-major) and `bias` (float32 [C]);
 * - `manifest.json` (written last): task, input, classes, metrics and every file's size and sha256,
 *   in the same envelope as image models (`format: modelsmith-model`).
 *
 * To predict elsewhere: tokenize and hash a text as `text-model.json` says (libs/ml/src/text), keep the
 * buckets found in `buckets` (their position is the feature's row), weight by (1 + ln tf) x idf,
 * L2-normalize, then softmax(x W + b).
 */
export const TEXT_MODEL_FILE = 'text-model.json';
export const TEXT_WEIGHTS_FILE = 'text-weights.bin';
export const TEXT_MODEL_FORMAT = 'modelsmith-text-classifier';

const arraySpec = z.object({
  dtype: z.enum(['uint32', 'float32']),
  /** Byte offset in the weights file (a multiple of 4). */
  offset: z.number().int().min(0).multipleOf(4),
  length: z.number().int().min(0),
});

const linearModelJsonSchema = z.object({
  format: z.literal(TEXT_MODEL_FORMAT),
  version: z.literal(1),
  algorithm: z.literal('linear-softmax'),
  features: featureConfigSchema,
  classNames: z.array(z.string().min(1).max(200)).min(2).max(10_000),
  numFeatures: z
    .number()
    .int()
    .min(0)
    .max(1 << 26),
  weightsFile: z.literal(TEXT_WEIGHTS_FILE),
  arrays: z.object({ buckets: arraySpec, idf: arraySpec, weights: arraySpec, bias: arraySpec }),
});

/**
 * A text CNN: `buckets` (uint32 [V], the hashed tokens with an embedding row, ascending; row 0 is the
 * unknown token, bucket i has row i + 1), `embeddings` (float32 [(V + 1) x d]), per filter width i
 * `conv<i>` (float32 [filters x (width x d)]) and `convBias<i>` (float32 [filters]), `out` (float32
 * [classes x hidden]) and `outBias` (float32 [classes]).
 */
const cnnModelJsonSchema = z.object({
  format: z.literal(TEXT_MODEL_FORMAT),
  version: z.literal(1),
  algorithm: z.literal('text-cnn'),
  cnn: textCnnConfigSchema,
  classNames: z.array(z.string().min(1).max(200)).min(2).max(10_000),
  vocabularySize: z
    .number()
    .int()
    .min(0)
    .max(1 << 26),
  weightsFile: z.literal(TEXT_WEIGHTS_FILE),
  arrays: z.record(z.string().regex(/^[a-zA-Z0-9]{1,20}$/), arraySpec),
});

export const textModelJsonSchema = z.discriminatedUnion('algorithm', [
  linearModelJsonSchema,
  cnnModelJsonSchema,
]);
export type TextModelJson = z.infer<typeof textModelJsonSchema>;

const fileSchema = z.object({
  path: z.string().min(1).max(512),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** manifest.json of a text model (the image models' envelope with a text input). */
export const textManifestSchema = z
  .object({
    format: z.literal('modelsmith-model'),
    formatVersion: z.literal(EXPORT_FORMAT_VERSION),
    task: z.literal('text-classification'),
    input: z.object({
      kind: z.literal('text'),
      /** Longest text (in characters) serving accepts for this model. */
      maxChars: z.number().int().min(1).max(1_000_000),
    }),
    normalization: z.null(),
    classNames: z.array(z.string().min(1).max(200)).min(2).max(10_000),
    /** The model family (`text-linear` or `text-cnn`), in the field image models use for their backbone. */
    backboneId: z.string().min(1).max(100),
    metrics: z.record(z.string().min(1).max(100), z.number().finite()),
    createdAt: z.iso.datetime(),
    framework: z.object({ name: z.literal('modelsmith-text'), version: z.string().max(50) }),
    modelFile: z.literal(TEXT_MODEL_FILE),
    files: z.array(fileSchema).min(2).max(16),
  })
  .superRefine((m, ctx) => {
    const paths = m.files.map((f) => f.path);
    for (const need of [TEXT_MODEL_FILE, TEXT_WEIGHTS_FILE])
      if (!paths.includes(need))
        ctx.addIssue({ code: 'custom', path: ['files'], message: `${need} is not listed` });
  });
export type TextManifest = z.infer<typeof textManifestSchema>;

/** Longest text serving accepts by default (characters). */
export const DEFAULT_MAX_TEXT_CHARS = 20_000;

type Part = readonly [string, 'uint32' | 'float32', Uint32Array | Float32Array];

function packArrays(parts: readonly Part[]): {
  json: Record<string, z.infer<typeof arraySpec>>;
  bytes: Uint8Array;
} {
  const total = parts.reduce((s, [, , a]) => s + a.byteLength, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const json = {} as Record<string, z.infer<typeof arraySpec>>;
  let offset = 0;
  for (const [name, dtype, arr] of parts) {
    json[name] = { dtype, offset, length: arr.length };
    for (let i = 0; i < arr.length; i++) {
      if (dtype === 'uint32') view.setUint32(offset + i * 4, arr[i], true);
      else view.setFloat32(offset + i * 4, arr[i], true);
    }
    offset += arr.byteLength;
  }
  return { json, bytes };
}

function readArray(
  bytes: Uint8Array,
  spec: z.infer<typeof arraySpec>,
  name: string,
): Uint32Array | Float32Array {
  const end = spec.offset + spec.length * 4;
  if (end > bytes.byteLength)
    throw new ModelArtifactError(
      'ARTIFACT_MANIFEST_INVALID',
      `${name} runs past the end of ${TEXT_WEIGHTS_FILE}`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = spec.dtype === 'uint32' ? new Uint32Array(spec.length) : new Float32Array(spec.length);
  for (let i = 0; i < spec.length; i++)
    out[i] =
      spec.dtype === 'uint32'
        ? view.getUint32(spec.offset + i * 4, true)
        : view.getFloat32(spec.offset + i * 4, true);
  return out;
}

/** The two model files of a classifier (text-model.json, text-weights.bin). */
export function serializeTextClassifier(c: TextModel): {
  modelJson: TextModelJson;
  weights: Uint8Array;
} {
  if (c instanceof TextCnnClassifier) return serializeTextCnn(c);
  if (!(c instanceof TextClassifier)) throw new TypeError(`cannot serialize a ${c.algorithm} text model`);
  const { json, bytes } = packArrays([
    ['buckets', 'uint32', c.vocabulary.buckets],
    ['idf', 'float32', c.vocabulary.idf],
    ['weights', 'float32', c.model.weights],
    ['bias', 'float32', c.model.bias],
  ]);
  return {
    modelJson: {
      format: TEXT_MODEL_FORMAT,
      version: 1,
      algorithm: 'linear-softmax',
      features: c.features,
      classNames: [...c.classNames],
      numFeatures: c.vocabulary.size,
      weightsFile: TEXT_WEIGHTS_FILE,
      arrays: json as z.infer<typeof linearModelJsonSchema>['arrays'],
    },
    weights: bytes,
  };
}

function serializeTextCnn(c: TextCnnClassifier): { modelJson: TextModelJson; weights: Uint8Array } {
  const w = c.model.weights;
  const { json, bytes } = packArrays([
    ['buckets', 'uint32', c.vocabulary.buckets],
    ['embeddings', 'float32', w.embeddings],
    ...w.conv.map((a, i) => [`conv${i}`, 'float32', a] as const),
    ...w.convBias.map((a, i) => [`convBias${i}`, 'float32', a] as const),
    ['out', 'float32', w.out],
    ['outBias', 'float32', w.outBias],
  ]);
  return {
    modelJson: {
      format: TEXT_MODEL_FORMAT,
      version: 1,
      algorithm: 'text-cnn',
      cnn: c.config,
      classNames: [...c.classNames],
      vocabularySize: c.vocabulary.buckets.length,
      weightsFile: TEXT_WEIGHTS_FILE,
      arrays: json,
    },
    weights: bytes,
  };
}

function deserializeTextCnn(m: z.infer<typeof cnnModelJsonSchema>, weights: Uint8Array): TextCnnClassifier {
  const v = m.vocabularySize;
  const k = m.classNames.length;
  const { embeddingDim: d, filters: f, widths } = m.cnn;
  const hidden = f * widths.length;
  const expect: Record<string, number> = { buckets: v, embeddings: (v + 1) * d, out: k * hidden, outBias: k };
  widths.forEach((w, i) => {
    expect[`conv${i}`] = f * w * d;
    expect[`convBias${i}`] = f;
  });
  const names = Object.keys(m.arrays).sort();
  if (JSON.stringify(names) !== JSON.stringify(Object.keys(expect).sort()))
    throw new ModelArtifactError(
      'ARTIFACT_MANIFEST_INVALID',
      `arrays are ${names.join(', ')}; expected ${Object.keys(expect).sort().join(', ')}`,
    );
  const read = (name: string, dtype: 'uint32' | 'float32') => {
    const spec = m.arrays[name];
    if (spec.length !== expect[name] || spec.dtype !== dtype)
      throw new ModelArtifactError(
        'ARTIFACT_MANIFEST_INVALID',
        `${name} has ${spec.length} ${spec.dtype} values, expected ${expect[name]} ${dtype}`,
      );
    return readArray(weights, spec, name);
  };
  const buckets = read('buckets', 'uint32') as Uint32Array;
  for (let i = 1; i < buckets.length; i++)
    if (buckets[i] <= buckets[i - 1])
      throw new ModelArtifactError('ARTIFACT_MANIFEST_INVALID', 'buckets are not strictly ascending');
  const f32 = (name: string) => read(name, 'float32') as Float32Array;
  const model = new TextCnn(m.cnn, v + 1, k, {
    embeddings: f32('embeddings'),
    conv: widths.map((_, i) => f32(`conv${i}`)),
    convBias: widths.map((_, i) => f32(`convBias${i}`)),
    out: f32('out'),
    outBias: f32('outBias'),
  });
  return new TextCnnClassifier(new TokenVocabulary(buckets), model, m.classNames);
}

/** Rebuilds a classifier from its two files, checking every shape. */
export function deserializeTextClassifier(modelJson: unknown, weights: Uint8Array): TextModel {
  const parsed = textModelJsonSchema.safeParse(modelJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelArtifactError(
      'ARTIFACT_MANIFEST_INVALID',
      `${TEXT_MODEL_FILE}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    );
  }
  if (parsed.data.algorithm === 'text-cnn') return deserializeTextCnn(parsed.data, weights);
  const m = parsed.data;
  const f = m.numFeatures;
  const k = m.classNames.length;
  const expect = { buckets: f, idf: f, weights: f * k, bias: k } as const;
  for (const [name, n] of Object.entries(expect)) {
    const spec = m.arrays[name as keyof typeof expect];
    if (spec.length !== n)
      throw new ModelArtifactError(
        'ARTIFACT_MANIFEST_INVALID',
        `${name} has ${spec.length} values, expected ${n}`,
      );
  }
  const buckets = readArray(weights, m.arrays.buckets, 'buckets') as Uint32Array;
  for (let i = 1; i < buckets.length; i++)
    if (buckets[i] <= buckets[i - 1])
      throw new ModelArtifactError('ARTIFACT_MANIFEST_INVALID', 'buckets are not strictly ascending');
  const vocab = new FeatureVocabulary(buckets, readArray(weights, m.arrays.idf, 'idf') as Float32Array);
  const model = new LinearSoftmax(
    f,
    k,
    readArray(weights, m.arrays.weights, 'weights') as Float32Array,
    readArray(weights, m.arrays.bias, 'bias') as Float32Array,
  );
  return new TextClassifier(m.features, vocab, model, m.classNames);
}

export interface ExportTextInfo {
  metrics: Record<string, number>;
  maxChars?: number;
  createdAt?: Date;
}

/** Writes text-model.json, text-weights.bin and, last, manifest.json under `prefix`. */
export async function exportTextClassifier(
  c: TextModel,
  writer: ArtifactWriter,
  prefix: string,
  info: ExportTextInfo,
): Promise<TextManifest> {
  const { modelJson, weights } = serializeTextClassifier(c);
  const jsonBytes = new TextEncoder().encode(JSON.stringify(modelJson));
  const files = [
    { path: TEXT_MODEL_FILE, size: jsonBytes.byteLength, sha256: sha256Hex(jsonBytes) },
    { path: TEXT_WEIGHTS_FILE, size: weights.byteLength, sha256: sha256Hex(weights) },
  ];
  const manifest = textManifestSchema.parse({
    format: 'modelsmith-model',
    formatVersion: EXPORT_FORMAT_VERSION,
    task: 'text-classification',
    input: { kind: 'text', maxChars: info.maxChars ?? DEFAULT_MAX_TEXT_CHARS },
    normalization: null,
    classNames: [...c.classNames],
    backboneId: c.algorithm === 'text-cnn' ? 'text-cnn' : 'text-linear',
    metrics: info.metrics,
    createdAt: (info.createdAt ?? new Date()).toISOString(),
    framework: { name: 'modelsmith-text', version: String(modelJson.version) },
    modelFile: TEXT_MODEL_FILE,
    files,
  });
  await writer.put(joinKey(prefix, TEXT_MODEL_FILE), jsonBytes, 'application/json');
  await writer.put(joinKey(prefix, TEXT_WEIGHTS_FILE), weights, 'application/octet-stream');
  await writer.put(
    joinKey(prefix, EXPORT_MANIFEST_FILE),
    new TextEncoder().encode(JSON.stringify(manifest, null, 2)),
    'application/json',
  );
  return manifest;
}

/** What manifest.json says a model is, without validating it as any one kind ('image', 'text', ...). */
export async function readModelTask(
  reader: ArtifactReader,
  prefix: string,
  limits?: Partial<ArtifactLimits>,
): Promise<string | undefined> {
  const max = resolveLimits(limits).maxJsonBytes;
  const bytes = await reader.get(joinKey(prefix, EXPORT_MANIFEST_FILE));
  if (bytes.byteLength > max)
    throw new ModelArtifactError('ARTIFACT_TOO_LARGE', 'manifest.json is over the cap');
  try {
    const task = (JSON.parse(new TextDecoder().decode(bytes)) as { task?: unknown }).task;
    return typeof task === 'string' ? task : undefined;
  } catch {
    throw new ModelArtifactError('ARTIFACT_MANIFEST_INVALID', 'manifest.json is not valid JSON');
  }
}

async function readListed(
  reader: ArtifactReader,
  prefix: string,
  file: { path: string; size: number; sha256: string },
): Promise<Uint8Array> {
  assertSafeRelativePath(file.path, 'manifest file');
  const key = joinKey(prefix, file.path);
  const size = reader.size ? await reader.size(key) : undefined;
  if (size !== undefined && size !== null && size !== file.size)
    throw new ModelArtifactError(
      'ARTIFACT_INTEGRITY_MISMATCH',
      `${file.path} does not match the size in manifest.json`,
    );
  const data = await reader.get(key);
  if (data.byteLength !== file.size || sha256Hex(data) !== file.sha256)
    throw new ModelArtifactError(
      'ARTIFACT_INTEGRITY_MISMATCH',
      `${file.path} does not match the size and sha256 in manifest.json`,
    );
  return data;
}

/** Loads a text model: manifest first (schema, sizes within limits), then both files checked against their sha256. */
export async function loadTextClassifier(
  reader: ArtifactReader,
  prefix: string,
  options: { limits?: Partial<ArtifactLimits> } = {},
): Promise<{ classifier: TextModel; manifest: TextManifest }> {
  const limits = resolveLimits(options.limits);
  const raw = await reader.get(joinKey(prefix, EXPORT_MANIFEST_FILE));
  if (raw.byteLength > limits.maxJsonBytes)
    throw new ModelArtifactError('ARTIFACT_TOO_LARGE', 'manifest.json is over the cap');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new ModelArtifactError('ARTIFACT_MANIFEST_INVALID', 'manifest.json is not valid JSON');
  }
  const parsed = textManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelArtifactError(
      'ARTIFACT_MANIFEST_INVALID',
      `manifest.json: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'} (not a text model)`,
    );
  }
  const manifest = parsed.data;
  const byPath = new Map(manifest.files.map((f) => [f.path, f]));
  const jsonFile = byPath.get(TEXT_MODEL_FILE)!;
  const weightsFile = byPath.get(TEXT_WEIGHTS_FILE)!;
  if (jsonFile.size > limits.maxJsonBytes)
    throw new ModelArtifactError(
      'ARTIFACT_TOO_LARGE',
      `${TEXT_MODEL_FILE} is declared ${jsonFile.size} bytes, over the cap`,
    );
  if (weightsFile.size > limits.maxWeightBytes)
    throw new ModelArtifactError(
      'ARTIFACT_TOO_LARGE',
      `weights are declared ${weightsFile.size} bytes, over the ${limits.maxWeightBytes}-byte cap`,
    );
  const modelBytes = await readListed(reader, prefix, jsonFile);
  const weights = await readListed(reader, prefix, weightsFile);
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(new TextDecoder().decode(modelBytes));
  } catch {
    throw new ModelArtifactError('ARTIFACT_MANIFEST_INVALID', `${TEXT_MODEL_FILE} is not valid JSON`);
  }
  const classifier = deserializeTextClassifier(modelJson, weights);
  if (JSON.stringify(classifier.classNames) !== JSON.stringify(manifest.classNames))
    throw new ModelArtifactError(
      'ARTIFACT_MANIFEST_INVALID',
      'class names differ between manifest.json and text-model.json',
    );
  return { classifier, manifest };
}
