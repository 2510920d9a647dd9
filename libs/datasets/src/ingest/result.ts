import type { ShardIndex } from '../shards/shard-index';
import type { DatasetReport } from '../stats/report-types';

export interface IngestResult {
  report: DatasetReport;
  index: ShardIndex;
  /** Keys written to the sink: shards, then `index.json` and `report.json` last. */
  keys: { index: string; report: string; shards: string[] };
}
