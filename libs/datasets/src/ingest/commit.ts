import { IngestionError } from '../errors';
import { INDEX_KEY, REPORT_KEY, type ShardIndex } from '../shards/shard-index';
import type { ShardSink } from '../shards/shard-sink';
import type { DatasetReport } from '../stats/report-types';
import type { CollectedDataset } from './sample-collector';
import type { IngestResult } from './result';

/** Fails a classification dataset that cannot be trained: nothing usable, or a single class. */
export function assertTrainable(
  collected: CollectedDataset,
  sourceName: string,
  noun: string,
  classification: boolean,
): void {
  if (collected.samples.length === 0) {
    throw new IngestionError(
      'empty_dataset',
      `"${sourceName}" contains no usable ${noun}s (see the skipped reasons)`,
      { file: sourceName },
    );
  }
  if (classification && collected.labels.length < 2) {
    throw new IngestionError(
      'single_class',
      `"${sourceName}" has only one class${collected.labels[0] ? ` (\`${collected.labels[0]}\`)` : ''}; a classifier needs at least two`,
      { file: sourceName },
    );
  }
}

/** Writes `report.json` then `index.json`: the index, written last, is the commit marker of a dataset. */
export async function commitDataset(
  sink: ShardSink,
  prefix: string,
  index: ShardIndex,
  report: DatasetReport,
): Promise<IngestResult> {
  const indexKey = `${prefix}${INDEX_KEY}`;
  const reportKey = `${prefix}${REPORT_KEY}`;
  await sink.put(reportKey, Buffer.from(JSON.stringify(report, null, 2), 'utf8'));
  await sink.put(indexKey, Buffer.from(JSON.stringify(index), 'utf8'));
  return {
    report,
    index,
    keys: { index: indexKey, report: reportKey, shards: index.shards.map((s) => s.key) },
  };
}
