import type { Readable } from 'node:stream';
import type { ArchiveReader } from '../archive/archive-types';
import { isJunkPath } from '../archive/path-safety';
import { readCapped } from '../archive/read-capped';
import { TarGzArchiveReader } from '../archive/tar-reader';
import { ZipArchiveReader } from '../archive/zip-reader';
import { archiveLayout } from '../detect/archive-layout';
import type { DatasetFormat } from '../detect/format-types';
import { IngestionError, isIngestionError } from '../errors';
import {
  decodeImage,
  type CacheImageSpec,
  type DecodedImage,
  type DecodeFailure,
} from '../image/decode-image';
import { ImageStatsAccumulator } from '../image/image-stats';
import { parseLabelsCsv, type LabelsCsv } from '../image/labels-csv';
import { knownUnsupportedImage, sniffImage, type ImageFormat } from '../image/sniff-image';
import type { ImageShardIndex } from '../shards/shard-index';
import type { ShardSink } from '../shards/shard-sink';
import { BinaryShardWriter } from '../shards/shard-writer';
import type { ByteSource } from '../source/byte-source';
import type { Split } from '../split/split-types';
import type { DatasetReport } from '../stats/report-types';
import { commonWarnings, imbalanceRatio } from '../stats/warnings';
import { throwIfAborted } from '../util/abort';
import { sha256Hex } from '../util/hash';
import { sanitizeLabel } from '../util/label';
import { assertTrainable, commitDataset } from './commit';
import type { ResolvedOptions } from './options';
import type { ProgressCallback } from './progress';
import type { IngestResult } from './result';
import { SampleCollector } from './sample-collector';

interface Job {
  path: string;
  label: string;
  hash: string;
  format: ImageFormat;
  split: Split | null;
  result: Promise<DecodedImage | DecodeFailure>;
}

interface Labeled {
  label: string;
  split: Split | null;
}

function openReader(source: ByteSource, container: 'zip' | 'tar.gz', opts: ResolvedOptions): ArchiveReader {
  if (container === 'zip') return new ZipArchiveReader(source, opts.limits);
  return new TarGzArchiveReader(source, opts.limits, (p) => /(^|\/)labels\.csv$/i.test(p));
}

async function readEntry(stream: Readable, path: string, maxBytes: number): Promise<Buffer> {
  try {
    return await readCapped(stream, maxBytes, path);
  } catch (err) {
    if (isIngestionError(err)) throw err;
    throw new IngestionError(
      'corrupt_archive',
      `archive entry "${path}" could not be read: ${(err as Error).message}`,
      { file: path },
    );
  }
}

/** Ingests an archive of images (class folders or labels.csv) into uint8 HWC shards. */
export async function ingestImages(
  source: ByteSource,
  container: 'zip' | 'tar.gz',
  explicitFormat: DatasetFormat | undefined,
  opts: ResolvedOptions,
  sink: ShardSink,
  progress: ProgressCallback,
): Promise<IngestResult> {
  const signal = opts.signal;
  const reader = openReader(source, container, opts);
  progress({ stage: 'scan', entriesProcessed: 0, bytesProcessed: 0, bytesTotal: source.size, percent: 0 });
  const listing = await reader.list(signal);
  const dataFiles = listing.filter((e) => e.kind === 'file' && !isJunkPath(e.path));
  if (dataFiles.length === 0)
    throw new IngestionError('empty_archive', `"${source.name}" contains no files`, { file: source.name });
  const layout = archiveLayout(listing);
  const format = explicitFormat ?? (layout.labelsCsv ? 'image-labels-csv' : 'image-folders');
  if (format !== 'image-folders' && format !== 'image-labels-csv') {
    throw new IngestionError('invalid_options', `format ${format} does not apply to a ${container} archive`, {
      field: 'format',
    });
  }
  let labelsCsv: LabelsCsv | null = null;
  if (format === 'image-labels-csv') {
    if (!layout.labelsCsv)
      throw new IngestionError('labels_csv_invalid', `"${source.name}" has no labels.csv at its root`, {
        file: 'labels.csv',
      });
    labelsCsv = parseLabelsCsv(
      await reader.readFile(layout.labelsCsv, opts.limits.maxLabelsCsvBytes, signal),
      layout.labelsCsv,
      opts.splitColumn,
    );
  }

  const spec: CacheImageSpec = { ...opts.image };
  const recordBytes = spec.width * spec.height * spec.channels;
  const writer = new BinaryShardWriter(sink, `${opts.keyPrefix}shards/images-`, recordBytes, opts.shardSize);
  const collector = new SampleCollector(opts.maxListed);
  const stats = new ImageStatsAccumulator(spec);
  const sanitized = new Set<string>();
  const matched = new Set<string>();
  labelsCsv?.skipped.forEach((s) => collector.skip(s));
  if (!labelsCsv) {
    // A class folder with nothing usable in it is still a class the user meant: report it as empty.
    for (const e of listing) {
      const rel = e.path.startsWith(layout.root) ? e.path.slice(layout.root.length) : null;
      if (e.kind === 'directory' && rel && !rel.includes('/') && !isJunkPath(e.path)) {
        const { label } = sanitizeLabel(rel);
        if (label !== '') collector.sawLabel(label);
      }
    }
  }
  labelsCsv?.rows.forEach((row) => {
    collector.sawLabel(row.label);
    if (row.sanitized) sanitized.add(row.label);
  });

  const labelFor = (rel: string, path: string): Labeled | null => {
    if (labelsCsv) {
      const row = labelsCsv.rows.get(rel);
      if (!row) {
        collector.skip({
          reason: 'not_in_labels_csv',
          path,
          message: `"${path}" is not listed in labels.csv`,
        });
        return null;
      }
      matched.add(rel);
      return { label: row.label, split: row.split };
    }
    const parts = rel.split('/');
    if (parts.length < 2) {
      collector.skip({
        reason: 'outside_class_folder',
        path,
        message: `"${path}" is not inside a class folder (<label>/<file>)`,
      });
      return null;
    }
    const { label, changed } = sanitizeLabel(parts[0]);
    if (label === '') {
      collector.skip({
        reason: 'invalid_label',
        path,
        message: `folder name of "${path}" is not a usable label`,
      });
      return null;
    }
    if (changed && label !== parts[0].trim()) sanitized.add(label);
    collector.sawLabel(label);
    return { label, split: null };
  };

  const queue: Job[] = [];
  const commit = async (job: Job): Promise<void> => {
    const decoded = await job.result;
    if (!decoded.ok) {
      collector.skip({
        reason: decoded.reason,
        path: job.path,
        message: `"${job.path}": ${decoded.message}`,
      });
      return;
    }
    const pos = await writer.add(decoded.pixels);
    collector.add(pos, job.label, job.hash, job.path, job.split);
    stats.add(decoded.width, decoded.height, decoded.channels, job.format, decoded.oriented);
  };

  let processed = 0;
  const total = dataFiles.length;
  const scanShare = container === 'tar.gz' ? 10 : 1;
  const report = (): void => {
    const bytes = reader.progress().sourceBytes;
    progress({
      stage: 'ingest',
      entriesProcessed: processed,
      entriesTotal: total,
      bytesProcessed: bytes,
      bytesTotal: source.size,
      percent: Math.min(99, scanShare + ((100 - scanShare - 1) * processed) / total),
    });
  };
  report();

  try {
    for await (const file of reader.files(signal)) {
      throwIfAborted(signal);
      if (isJunkPath(file.path)) continue;
      if (layout.labelsCsv !== null && file.path === layout.labelsCsv) continue;
      processed += 1;
      const rel = file.path.startsWith(layout.root) ? file.path.slice(layout.root.length) : file.path;
      const labeled = labelFor(rel, file.path);
      if (!labeled) continue;
      const data = await readEntry(file.stream, file.path, opts.limits.maxEntryBytes);
      const fmt = sniffImage(data);
      if (fmt === null) {
        const known = knownUnsupportedImage(data, file.path);
        collector.skip(
          known
            ? {
                reason: 'unsupported_image_format',
                path: file.path,
                message: `"${file.path}" is ${known}, which is not supported (use JPEG, PNG, WebP, GIF or TIFF)`,
              }
            : { reason: 'not_an_image', path: file.path, message: `"${file.path}" is not an image` },
        );
        report();
        continue;
      }
      const hash = sha256Hex(data);
      if (collector.admit(hash, labeled.label, file.path) !== 'new') {
        report();
        continue;
      }
      queue.push({
        path: file.path,
        label: labeled.label,
        hash,
        format: fmt,
        split: labeled.split,
        result: decodeImage(data, fmt, spec, opts.limits.maxImagePixels),
      });
      while (queue.length >= opts.concurrency) await commit(queue.shift()!);
      report();
    }
    while (queue.length > 0) await commit(queue.shift()!);
  } finally {
    // Let in-flight decodes settle so nothing runs after we return or throw.
    await Promise.allSettled(queue.map((j) => j.result));
  }
  await writer.flush();
  throwIfAborted(signal);
  progress({
    stage: 'finalize',
    entriesProcessed: processed,
    entriesTotal: total,
    bytesProcessed: source.size,
    bytesTotal: source.size,
    percent: 99,
  });

  labelsCsv?.rows.forEach((row, path) => {
    if (!matched.has(path))
      collector.skip({
        reason: 'missing_file',
        path: 'labels.csv',
        line: row.line,
        message: `labels.csv line ${row.line}: "${path}" is not in the archive`,
      });
  });
  const collected = collector.finalize(opts.ratios, opts.seed, true);
  assertTrainable(collected, source.name, 'image', true);

  const index: ImageShardIndex = {
    version: 1,
    kind: 'image',
    height: spec.height,
    width: spec.width,
    channels: spec.channels,
    recordBytes,
    labels: collected.labels,
    shards: writer.files,
    samples: collected.samples,
  };
  const warnings = commonWarnings({
    collected,
    entries: processed,
    skipped: collector.skippedCount,
    duplicates: collector.duplicateCount,
    conflicts: collector.conflictCount(),
    sanitizedLabels: [...sanitized].sort(),
    minSamplesPerClass: opts.minSamplesPerClass,
    noun: 'image',
  });
  if (stats.count > 0 && stats.smallerThanCache / stats.count > 0.5) {
    warnings.push({
      code: 'images_upscaled',
      message: `${stats.smallerThanCache} of ${stats.count} images are smaller than the cache size ${spec.width}x${spec.height} and were upscaled`,
    });
  }
  const dsReport: DatasetReport = {
    version: 1,
    kind: 'image',
    format,
    container,
    source: { name: source.name, bytes: source.size },
    totals: {
      entries: processed,
      samples: collected.samples.length,
      skipped: collector.skippedCount,
      duplicates: collector.duplicateCount,
      labelConflicts: collector.conflictCount(),
    },
    classes: collected.classes,
    splits: collected.splits,
    split: { method: collected.method, seed: opts.seed, ratios: opts.ratios },
    imbalanceRatio: imbalanceRatio(collected),
    images: stats.result(),
    skipped: collector.skipped,
    skippedByReason: collector.skippedByReason,
    duplicates: collector.duplicates(),
    labelConflicts: collector.labelConflicts(),
    warnings,
    truncatedLists: collector.truncated,
  };
  const result = await commitDataset(sink, opts.keyPrefix, index, dsReport);
  progress({
    stage: 'finalize',
    entriesProcessed: processed,
    entriesTotal: total,
    bytesProcessed: source.size,
    bytesTotal: source.size,
    percent: 100,
  });
  return result;
}
