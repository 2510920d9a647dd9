/** Event types persisted for a job, streamed over SSE and returned by polling (each one is written somewhere). */
export type JobEventType =
  'queued' | 'started' | 'progress' | 'metrics' | 'log' | 'requeued' | 'succeeded' | 'failed' | 'cancelled';

export interface JobProgress {
  stage?: string;
  /** 0..100 */
  percent?: number;
  etaSeconds?: number | null;
  message?: string;
  data?: Record<string, unknown>;
}

export const TERMINAL_STATUSES = ['SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export function isTerminal(status: string): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}
