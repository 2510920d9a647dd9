import { z } from 'zod';
import type { EpochLog } from '@modelsmith/ml';

/** One entry of a TRAIN job's `metricHistory` column: an epoch's log and its phase. */
export type EpochRecord = EpochLog & { phase: string };

const epochRecord = z
  .object({
    phase: z.string(),
    epoch: z.number(),
    loss: z.number(),
    accuracy: z.number(),
    val_loss: z.number().optional(),
    val_accuracy: z.number().optional(),
    lr: z.number(),
    steps: z.number(),
    samples: z.number(),
    seconds: z.number(),
  })
  .loose();

/**
 * The history a previous attempt recorded (resumed jobs keep it), parsed; entries that are not epoch
 * records are dropped rather than trusted.
 */
export function parseMetricHistory(raw: unknown): EpochRecord[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((entry) => {
    const parsed = epochRecord.safeParse(entry);
    return parsed.success ? [parsed.data] : [];
  });
}
