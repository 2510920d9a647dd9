import { StorageError } from './errors';

/**
 * The object key layout. Everything a tenant owns lives under `tenants/<tenantId>/`, so deleting a
 * tenant is one prefix delete and no key can be built that escapes its tenant.
 *
 *   tenants/<t>/datasets/<d>/versions/<v>/source/<file>
 *   tenants/<t>/datasets/<d>/versions/<v>/shards/<file>
 *   tenants/<t>/datasets/<d>/versions/<v>/ingested/<file>     (shards, index.json, report.json of an ingestion)
 *   tenants/<t>/datasets/<d>/versions/<v>/preview/<class>/<n>.png
 *   tenants/<t>/jobs/<j>/checkpoints/<file>
 *   tenants/<t>/jobs/<j>/logs/<file>
 *   tenants/<t>/jobs/<j>/output/<file>
 *   tenants/<t>/batch-inputs/<upload>/<file>
 *   tenants/<t>/models/<m>/<file>
 */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const FILE_SEGMENT = /^[A-Za-z0-9_.@=+-][A-Za-z0-9_.@=+ -]{0,254}$/;

/** Throws INVALID_KEY unless `id` is a plain identifier: no `/`, no `..`, no control characters. */
export function assertId(kind: string, id: string): string {
  if (!ID.test(id) || id.includes('..')) {
    throw new StorageError(
      'INVALID_KEY',
      `${kind} id "${id}" is not a valid key segment (letters, digits, "_", "-", "."; no "/" or "..")`,
      {
        kind,
      },
    );
  }
  return id;
}

/** Validates a relative file path below a resource folder ("a/b.bin"): no empty, "." or ".." segments. */
export function assertRelativePath(path: string): string {
  const segments = path.split('/');
  const ok =
    path.length > 0 &&
    path.length <= 512 &&
    segments.every((s) => FILE_SEGMENT.test(s) && s !== '.' && s !== '..' && !s.includes('..'));
  if (!ok) throw new StorageError('INVALID_KEY', `file path "${path}" is not a valid relative key`, { path });
  return path;
}

function join(...parts: string[]): string {
  return parts.join('/');
}

export const keys = {
  /** Prefix holding everything of one tenant (ends with "/"). */
  tenant: (tenantId: string): string => join('tenants', assertId('tenant', tenantId)) + '/',

  dataset: (tenantId: string, datasetId: string): string =>
    keys.tenant(tenantId) + join('datasets', assertId('dataset', datasetId)) + '/',
  datasetVersion: (tenantId: string, datasetId: string, versionId: string): string =>
    keys.dataset(tenantId, datasetId) + join('versions', assertId('dataset version', versionId)) + '/',
  /** The uploaded source (archive or CSV) of a dataset version. */
  datasetSource: (tenantId: string, datasetId: string, versionId: string, file: string): string =>
    keys.datasetVersion(tenantId, datasetId, versionId) + join('source', assertRelativePath(file)),
  datasetShardsPrefix: (tenantId: string, datasetId: string, versionId: string): string =>
    keys.datasetVersion(tenantId, datasetId, versionId) + 'shards/',
  datasetShard: (tenantId: string, datasetId: string, versionId: string, file: string): string =>
    keys.datasetShardsPrefix(tenantId, datasetId, versionId) + assertRelativePath(file),
  /** Where the ingestion writes a version's shards, index.json (the commit marker) and report.json. */
  datasetIngestedPrefix: (tenantId: string, datasetId: string, versionId: string): string =>
    keys.datasetVersion(tenantId, datasetId, versionId) + 'ingested/',
  /** Thumbnails of a version's samples, per class index. */
  datasetPreviewsPrefix: (tenantId: string, datasetId: string, versionId: string): string =>
    keys.datasetVersion(tenantId, datasetId, versionId) + 'preview/',
  /** The `n`-th thumbnail (PNG) of class `classIndex`. */
  datasetPreview: (
    tenantId: string,
    datasetId: string,
    versionId: string,
    classIndex: number,
    n: number,
  ): string =>
    keys.datasetPreviewsPrefix(tenantId, datasetId, versionId) +
    join(String(index('class index', classIndex)), `${index('preview', n)}.png`),

  job: (tenantId: string, jobId: string): string =>
    keys.tenant(tenantId) + join('jobs', assertId('job', jobId)) + '/',
  jobCheckpointsPrefix: (tenantId: string, jobId: string): string =>
    keys.job(tenantId, jobId) + 'checkpoints/',
  jobCheckpoint: (tenantId: string, jobId: string, file: string): string =>
    keys.jobCheckpointsPrefix(tenantId, jobId) + assertRelativePath(file),
  jobLogsPrefix: (tenantId: string, jobId: string): string => keys.job(tenantId, jobId) + 'logs/',
  jobLog: (tenantId: string, jobId: string, file: string): string =>
    keys.jobLogsPrefix(tenantId, jobId) + assertRelativePath(file),

  /** The model a search trial of a job exported (`trial` = the trial's index). */
  jobTrialModel: (tenantId: string, jobId: string, trial: number): string =>
    keys.job(tenantId, jobId) + join('trials', String(index('trial', trial)), 'model') + '/',

  /** What a job produced for its owner to download (e.g. batch predictions). */
  jobOutput: (tenantId: string, jobId: string, file: string): string =>
    keys.job(tenantId, jobId) + join('output', assertRelativePath(file)),
  /** Every archive a tenant uploaded for batch prediction jobs. */
  batchInputsPrefix: (tenantId: string): string => keys.tenant(tenantId) + 'batch-inputs/',
  /** An archive uploaded for a batch prediction job (the upload id is known before the job). */
  batchInput: (tenantId: string, uploadId: string, file: string): string =>
    keys.batchInputsPrefix(tenantId) + join(assertId('upload', uploadId), assertRelativePath(file)),

  model: (tenantId: string, modelId: string): string =>
    keys.tenant(tenantId) + join('models', assertId('model', modelId)) + '/',
  modelFile: (tenantId: string, modelId: string, file: string): string =>
    keys.model(tenantId, modelId) + assertRelativePath(file),

  /**
   * A file below a prefix this layout built earlier and a row stored (a model's `artifactPrefix`, a
   * version's `shardPrefix`): the prefix must be a tenant's folder, the file a relative path.
   */
  within: (prefix: string, file: string): string => {
    if (
      !prefix.endsWith('/') ||
      tenantOfKey(prefix) === null ||
      prefix.split('/').some((s, i, all) => (s === '' && i < all.length - 1) || s === '.' || s === '..')
    ) {
      throw new StorageError('INVALID_KEY', `"${prefix}" is not a prefix of the key layout`, { prefix });
    }
    return prefix + assertRelativePath(file);
  },
} as const;

function index(kind: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new StorageError('INVALID_KEY', `${kind} ${n} is not a non-negative integer`, { kind });
  return n;
}

/** The tenant id a key belongs to, or null when the key is outside `tenants/<id>/`. */
export function tenantOfKey(key: string): string | null {
  const m = /^tenants\/([^/]+)\//.exec(key);
  return m && ID.test(m[1]) && !m[1].includes('..') ? m[1] : null;
}
