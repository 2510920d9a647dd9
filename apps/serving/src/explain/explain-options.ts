import { z } from 'zod';
import { ProblemError } from '@modelsmith/http';
import { EXPLAIN_LIMITS, explainRequestSchema, type ExplainRequestParsed } from '@modelsmith/ml';

/** Most images a predict request may ask explanations for (each costs up to the budget it states). */
export const MAX_EXPLAINED_IMAGES = 4;

export interface ExplainOptions {
  request: ExplainRequestParsed;
  /** Rows and columns of the heatmap grid in the answer. */
  grid: number;
  overlay: boolean;
}

const answerSchema = z
  .object({
    grid: z.number().int().min(1).max(64).default(16),
    overlay: z.boolean().default(true),
  })
  .strict();

function invalid(issues: z.core.$ZodIssue[]): ProblemError {
  const errors = issues.slice(0, 20).map((i) => ({
    field: ['explain', ...i.path.map(String)].join('.').slice(0, 120),
    messages: [i.message.slice(0, 300)],
  }));
  return new ProblemError({
    status: 400,
    code: 'VALIDATION_FAILED',
    title: 'Invalid explanation request',
    detail: errors.map((e) => `${e.field}: ${e.messages[0]}`).join('; '),
    extensions: { errors, limits: EXPLAIN_LIMITS },
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
