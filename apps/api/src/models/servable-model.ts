import type { Task } from '@modelsmith/db';
import { ProblemError } from '@modelsmith/http';

/** Throws a 422 unless the model can answer image predictions (online or batch). */
export function assertServable(model: { id: string; task: Task; manifest: unknown }): void {
  if (model.task === 'IMAGE_CLASSIFICATION' && model.manifest !== null) return;
  throw new ProblemError({
    status: 422,
    code: 'UNPROCESSABLE',
    title: 'Model cannot predict',
    detail: `model ${model.id} is a ${model.task.toLowerCase().replace(/_/g, '-')} model${model.manifest === null ? ' without an exported manifest' : ''}; predictions are served for image classification models`,
    extensions: { reason: 'MODEL_NOT_SERVABLE' },
  });
}
