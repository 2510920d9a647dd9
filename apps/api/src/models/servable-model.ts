import type { Task } from '@modelsmith/db';
import { ProblemError } from '@modelsmith/http';

/** Tasks each prediction path serves (tabular models take records: JSON, JSON lines or CSV). */
const SERVED: Record<'online' | 'batch', readonly Task[]> = {
  online: ['IMAGE_CLASSIFICATION', 'TABULAR_CLASSIFICATION', 'TABULAR_REGRESSION'],
  batch: ['IMAGE_CLASSIFICATION', 'TABULAR_CLASSIFICATION', 'TABULAR_REGRESSION'],
};

/** Throws a 422 unless the model can answer predictions on this path (online or batch). */
export function assertServable(
  model: { id: string; task: Task; manifest: unknown },
  path: 'online' | 'batch' = 'batch',
): void {
  if (SERVED[path].includes(model.task) && model.manifest !== null) return;
  throw new ProblemError({
    status: 422,
    code: 'UNPROCESSABLE',
    title: 'Model cannot predict',
    detail: `model ${model.id} is a ${model.task.toLowerCase().replace(/_/g, '-')} model${model.manifest === null ? ' without an exported manifest' : ''}; ${path} predictions are served for ${SERVED[path].map((t) => t.toLowerCase().replace(/_/g, '-')).join(', ')} models`,
    extensions: { reason: 'MODEL_NOT_SERVABLE' },
  });
}
