export type IngestStage = 'detect' | 'scan' | 'ingest' | 'finalize';

export interface IngestProgress {
  stage: IngestStage;
  /** Files (archives) or rows (CSV/JSONL) processed so far in this stage. */
  entriesProcessed: number;
  /** Total entries when known (zip central directory, listing pass). */
  entriesTotal?: number;
  /** Source bytes consumed so far in this stage. */
  bytesProcessed: number;
  /** Source size. */
  bytesTotal: number;
  /** 0..100 overall, when it can be estimated. */
  percent?: number;
}

export type ProgressCallback = (progress: IngestProgress) => void;

/** Rate-limits progress callbacks to one per `everyMs` (plus stage changes and completion). */
export function throttledProgress(cb: ProgressCallback | undefined, everyMs = 250): ProgressCallback {
  let last = 0;
  let lastStage: IngestStage | undefined;
  return (p) => {
    if (!cb) return;
    const now = Date.now();
    if (p.stage === lastStage && now - last < everyMs && p.percent !== 100) return;
    last = now;
    lastStage = p.stage;
    cb(p);
  };
}
