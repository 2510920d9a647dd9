import type { UnsafeField } from './control-characters';

/** Deeper than this the walk stops (bodies are depth-checked before parsing; control-characters.ts refuses deeper values). */
const MAX_WALK_DEPTH = 64;

/**
 * Every member or array item of `value` that is JSON `null`, with its dotted path (`config.topK`,
 * `parts.0`). class-validator's @IsOptional() passes `null` as if the member were absent, while the
 * code behind a DTO reads `undefined` as absent and hands `null` on (to Prisma, which refuses it for a
 * required column: a 500). No request field of the API gives `null` a meaning, so it is refused.
 */
export function findNulls(value: unknown, root: string): UnsafeField[] {
  const out: UnsafeField[] = [];
  const visit = (v: unknown, path: string, depth: number): void => {
    if (v === null) {
      out.push({ field: path, messages: ['must not be null (leave the member out instead)'] });
      return;
    }
    if (typeof v !== 'object' || v instanceof Date || Buffer.isBuffer(v) || depth >= MAX_WALK_DEPTH) return;
    for (const [k, child] of Object.entries(v as Record<string, unknown>))
      visit(child, path ? `${path}.${k}` : k, depth + 1);
  };
  if (value !== null) visit(value, root, 0);
  return out;
}
