import { z } from 'zod';
import { IMAGE_EXPLAIN_BOUNDS, MAX_EXPLAINED_PER_PREDICT, TEXT_EXPLAIN_BOUNDS } from '@modelsmith/contracts';
import { ProblemError } from '@modelsmith/http';
import { EXPLAIN_LIMITS, explainRequestSchema, type ExplainRequestParsed } from '@modelsmith/ml';

/** Most images (or texts) a predict request may ask explanations for (each costs up to the budget it states). */
export const MAX_EXPLAINED_IMAGES = MAX_EXPLAINED_PER_PREDICT;

export interface ExplainOptions {
  request: ExplainRequestParsed;
  /** Rows and columns of the heatmap grid in the answer. */
  grid: number;
  overlay: boolean;
}

const answerSchema = z
  .object({
    grid: z
      .number()
      .int()
      .min(IMAGE_EXPLAIN_BOUNDS.grid.min)
      .max(IMAGE_EXPLAIN_BOUNDS.grid.max)
      .default(IMAGE_EXPLAIN_BOUNDS.grid.default),
    overlay: z.boolean().default(true),
  })
  .strict();

function invalid(issues: z.core.$ZodIssue[], limits: object = EXPLAIN_LIMITS): ProblemError {
  const errors = issues.slice(0, 20).map((i) => ({
    field: ['explain', ...i.path.map(String)].join('.').slice(0, 120),
    messages: [i.message.slice(0, 300)],
  }));
  return new ProblemError({
    status: 400,
    code: 'VALIDATION_FAILED',
    title: 'Invalid explanation request',
    detail: errors.map((e) => `${e.field}: ${e.messages[0]}`).join('; '),
    extensions: { errors, limits },
  });
}

/**
 * The explanation a request asks for: an object with `method` (grad-cam | integrated-gradients |
 * smoothgrad | lime, default grad-cam), its budget (`steps`, `samples`, `segments`, bounded by
 * EXPLAIN_LIMITS), `target`, `seed`, and how to answer (`grid` 1..64, default 16; `overlay`, default
 * true). In a multipart form it is the `explain` field, holding that object as JSON text.
 */
export function parseExplainOptions(raw: unknown): ExplainOptions {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalid([
      { code: 'custom', path: [], message: 'must be an object, e.g. {"method":"grad-cam"}', input: raw },
    ]);
  const { grid, overlay, ...rest } = raw as Record<string, unknown>;
  const answer = answerSchema.safeParse({
    ...(grid !== undefined ? { grid } : {}),
    ...(overlay !== undefined ? { overlay } : {}),
  });
  const request = explainRequestSchema.safeParse(rest);
  const issues = [
    ...(answer.success ? [] : answer.error.issues),
    ...(request.success ? [] : request.error.issues),
  ];
  if (!answer.success || !request.success) throw invalid(issues);
  return { request: request.data, grid: answer.data.grid, overlay: answer.data.overlay };
}

/** Bounds of a text explanation's budget (word-level LIME on a text model), as the OpenAPI document states them. */
export const TEXT_EXPLAIN_LIMITS = {
  samples: TEXT_EXPLAIN_BOUNDS.samples,
  maxWords: TEXT_EXPLAIN_BOUNDS.maxWords,
} as const;

/** Most characters of a text that may be explained (each LIME sample re-featurizes the whole text). */
export const MAX_EXPLAINED_TEXT_CHARS = TEXT_EXPLAIN_BOUNDS.maxChars;

const textExplainSchema = z
  .object({
    method: z.literal('lime').default('lime'),
    samples: z
      .number()
      .int()
      .min(TEXT_EXPLAIN_LIMITS.samples.min)
      .max(TEXT_EXPLAIN_LIMITS.samples.max)
      .default(TEXT_EXPLAIN_LIMITS.samples.default),
    maxWords: z
      .number()
      .int()
      .min(TEXT_EXPLAIN_LIMITS.maxWords.min)
      .max(TEXT_EXPLAIN_LIMITS.maxWords.max)
      .default(TEXT_EXPLAIN_LIMITS.maxWords.default),
    target: z.number().int().min(0).max(10_000).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
  })
  .strict();

export type TextExplainOptions = z.infer<typeof textExplainSchema>;

/**
 * The explanation a request asks of a text model: `method` (only `lime`, the default), `samples`
 * (perturbed texts, 16..1024, default 256), `maxWords` (distinct words explained, 1..200, default
 * 100), `target` and `seed`. Image-only fields (`grid`, `overlay`, `steps`, `segments`) are refused.
 */
export function parseTextExplainOptions(raw: unknown): TextExplainOptions {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalid([
      { code: 'custom', path: [], message: 'must be an object, e.g. {"method":"lime"}', input: raw },
    ]);
  const parsed = textExplainSchema.safeParse(raw);
  if (!parsed.success) throw invalid(parsed.error.issues, TEXT_EXPLAIN_LIMITS);
  return parsed.data;
}
