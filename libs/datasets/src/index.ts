export { ingest } from './ingest/ingest';
export type { IngestOptions } from './ingest/options';
export type { IngestProgress, IngestStage, ProgressCallback } from './ingest/progress';
export type { IngestResult } from './ingest/result';
export {
  IngestionError,
  isIngestionError,
  type IngestionErrorCode,
  type IngestionErrorDetails,
} from './errors';
export { DEFAULT_LIMITS, type IngestionLimits } from './limits';
export type { ByteSource } from './source/byte-source';
export { fileSource } from './source/file-source';
export { bufferSource } from './source/buffer-source';
export { SourceRandomAccessReader } from './source/random-access-reader';
export type { ShardSink, ShardSource } from './shards/shard-sink';
export { FsShardStore } from './shards/fs-shard-store';
export { MemoryShardStore } from './shards/memory-shard-store';
export {
  INDEX_KEY,
  REPORT_KEY,
  type ShardIndex,
  type ImageShardIndex,
  type RecordShardIndex,
  type IndexedSample,
  type ShardFile,
} from './shards/shard-index';
export {
  readShards,
  readRecordShards,
  loadShardIndex,
  type ReadShardsOptions,
  type ImageBatch,
  type RecordBatch,
} from './shards/shard-reader';
export { readTextSplit, type TextSplitData } from './text/text-splits';
export { deriveIndex, countClasses, IndexEditError, type IndexEdits } from './shards/derive-index';
export { DATASET_FORMATS, type Container, type DatasetFormat } from './detect/format-types';
export {
  SPLITS,
  DEFAULT_SPLIT_RATIOS,
  DEFAULT_SPLIT_SEED,
  type Split,
  type SplitRatios,
} from './split/split-types';
export type * from './stats/report-types';
export { archiveFiles, openArchive, type ArchiveFileBytes } from './archive/open-archive';
export type { ArchiveReader } from './archive/archive-types';
