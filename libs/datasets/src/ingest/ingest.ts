import { checkContentType, sniffContainer } from '../detect/sniff-container';
import { containerKinds, type Container, type DatasetFormat } from '../detect/format-types';
import { IngestionError, isIngestionError } from '../errors';
import type { ShardSink } from '../shards/shard-sink';
import type { ByteSource } from '../source/byte-source';
import { throwIfAborted } from '../util/abort';
import { ingestImages } from './ingest-images';
import { ingestRows } from './ingest-rows';
import { resolveOptions, type IngestOptions } from './options';
import { throttledProgress, type ProgressCallback } from './progress';
import type { IngestResult } from './result';

function checkFormat(format: DatasetFormat | undefined, container: Container, name: string): void {
  if (format === undefined) return;
  if (!containerKinds(format).includes(container)) {
    throw new IngestionError(
      'content_type_mismatch',
      `"${name}" is a ${container} file, which cannot hold the requested format ${format}`,
      { file: name, field: 'format' },
    );
  }
}

/**
 * Ingests a dataset: detects its format, validates every entry, writes preprocessed shards, then
 * `report.json` and finally `index.json` (the commit marker) through the sink. Throws an
 * IngestionError with a stable code on any fatal problem; nothing partial is returned as success.
 */
export async function ingest(
  source: ByteSource,
  options: IngestOptions,
  sink: ShardSink,
  onProgress?: ProgressCallback,
): Promise<IngestResult> {
  const opts = resolveOptions(options);
  const progress = throttledProgress(onProgress);
  try {
    throwIfAborted(opts.signal);
    progress({
      stage: 'detect',
      entriesProcessed: 0,
      bytesProcessed: 0,
      bytesTotal: source.size,
      percent: 0,
    });
    const container = await sniffContainer(source);
    checkContentType(source, container);
    checkFormat(opts.format, container, source.name);
    switch (container) {
      case 'zip':
      case 'tar.gz':
        return await ingestImages(source, container, opts.format, opts, sink, progress);
      case 'csv':
      case 'jsonl':
        return await ingestRows(source, container, opts, sink, progress);
    }
  } catch (err) {
    if (isIngestionError(err)) throw err;
    if (opts.signal?.aborted) throw new IngestionError('cancelled', 'ingestion was cancelled');
    throw err;
  }
}
