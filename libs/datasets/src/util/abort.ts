import { IngestionError } from '../errors';

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new IngestionError('cancelled', 'ingestion was cancelled');
}
