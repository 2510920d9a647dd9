import type { Task } from '@modelsmith/db';
import { ProblemError } from '@modelsmith/http';

/** Model tasks that serving and batch prediction answer. */
const SERVABLE_TASKS: readonly Task[] = ['IMAGE_CLASSIFICATION', 'TEXT_CLASSIFICATION'];

/** Throws a 422 unless the model can answer predictions (online or batch): images or text. */
export function assertServable(model: { id: string; task: Task; manifest: unknown }): void {
  if (SERVABLE_TASKS.includes(model.task) && model.manifest !== null) return;
  throw new ProblemError({
    status: 422,
    code: 'UNPROCESSABLE',
    title: 'Model cannot predict',
    detail: `model ${model.id} is a ${model.task.toLowerCase().replace(/_/g, '-')} model${model.manifest === null ? ' without an exported manifest' : ''}; predictions are served for image and text classification models`,
    extensions: { reason: 'MODEL_NOT_SERVABLE' },
  });
}
