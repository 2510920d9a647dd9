export type ExplainErrorCode =
  'EXPLAIN_INPUT_MISMATCH' | 'EXPLAIN_UNSUPPORTED_MODEL' | 'EXPLAIN_BUDGET_INVALID';

/** A request the explainers cannot answer (bad input, a model without what the method needs, a bad budget). */
export class ExplainError extends Error {
  constructor(
    readonly code: ExplainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExplainError';
  }
}
