import { z } from 'zod';
import { DATASET_FORMATS, type DatasetFormat } from '@modelsmith/datasets';
import { ProblemError } from '@modelsmith/http';
import type { StoredIngestOptions } from '@modelsmith/jobs';

/** Ingestion options a client may send with an upload (multipart fields or JSON), validated once. */
export const ingestOptionsSchema = z
  .object({
    format: z.enum(DATASET_FORMATS as unknown as [DatasetFormat, ...DatasetFormat[]]).optional(),
    target: z.string().min(1).max(200).optional(),
    textColumn: z.string().min(1).max(200).optional(),
    labelColumn: z.string().min(1).max(200).optional(),
    splitColumn: z.string().min(1).max(200).optional(),
    imageSize: z.coerce.number().int().min(16).max(512).optional(),
    channels: z.coerce
      .number()
      .int()
      .refine((c) => c === 1 || c === 3, 'must be 1 or 3')
      .optional(),
    fit: z.enum(['cover', 'contain', 'fill']).optional(),
    splitSeed: z.coerce
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
    parentVersionId: z.string().min(1).max(64).optional(),
  })
  .strict();

export type IngestOptionsInput = z.infer<typeof ingestOptionsSchema>;

export function parseIngestOptions(raw: Record<string, unknown>): IngestOptionsInput {
  const parsed = ingestOptionsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((i) => ({
    field: i.path.join('.') || (i.code === 'unrecognized_keys' ? i.keys.join(', ') : '(options)'),
    messages: [i.message],
  }));
  throw new ProblemError({
    status: 400,
    code: 'VALIDATION_FAILED',
    title: 'Invalid ingestion options',
    detail: errors.map((e) => `${e.field}: ${e.messages.join(', ')}`).join('; '),
    extensions: { errors },
  });
}

/** The options stored on the version row and handed to libs/datasets' ingest(). */
export function toStoredOptions(o: IngestOptionsInput): StoredIngestOptions {
  return {
    ...(o.format ? { format: o.format } : {}),
    ...(o.target ? { target: o.target } : {}),
    ...(o.textColumn ? { textColumn: o.textColumn } : {}),
    ...(o.labelColumn ? { labelColumn: o.labelColumn } : {}),
    ...(o.splitColumn ? { splitColumn: o.splitColumn } : {}),
    ...(o.imageSize || o.channels || o.fit
      ? {
          image: {
            ...(o.imageSize ? { size: o.imageSize } : {}),
            ...(o.channels ? { channels: o.channels } : {}),
            ...(o.fit ? { fit: o.fit } : {}),
          },
        }
      : {}),
  };
}
