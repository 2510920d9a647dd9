import type { Task } from '@modelsmith/db';
import { ProblemError } from '@modelsmith/http';

export const TABULAR_TASKS: readonly Task[] = ['TABULAR_CLASSIFICATION', 'TABULAR_REGRESSION'];

export const isTabularTask = (task: Task): boolean => TABULAR_TASKS.includes(task);

interface TabularReportColumn {
  name: string;
  type: string;
}

const unprocessable = (reason: string, detail: string, field: string) =>
  new ProblemError({
    status: 422,
    code: 'UNPROCESSABLE',
    title: 'Training job rejected',
    detail,
    extensions: { reason, field },
  });

/**
 * Checks a tabular job's options against its dataset version's report: image-only options are
 * refused, and a target chosen at job time must be a column that can be a target (numeric,
 * categorical or boolean). The worker repeats the target check.
 */
export function assertTabularOptions(
  report: unknown,
  options: { target?: string; backbone?: string; augmentation?: string } | undefined,
): void {
  if (options?.backbone && options.backbone !== 'auto')
    throw unprocessable('OPTION_NOT_APPLICABLE', 'tabular jobs have no backbone', 'options.backbone');
  const target = options?.target;
  if (target === undefined) return;
  const columns =
    (report as { tabular?: { columns?: TabularReportColumn[] } } | null)?.tabular?.columns ?? [];
  const col = columns.find((c) => c.name === target);
  if (!col)
    throw unprocessable(
      'UNKNOWN_TARGET',
      `"${target.slice(0, 256)}" is not a column of this dataset; columns: ${columns.map((c) => c.name).join(', ')}`,
      'options.target',
    );
  if (!['numeric', 'categorical', 'boolean'].includes(col.type))
    throw unprocessable(
      'BAD_TARGET',
      `column "${target}" is ${col.type}; a target must be numeric, categorical or boolean`,
      'options.target',
    );
}
