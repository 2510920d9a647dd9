import { assertId, assertRelativePath, keys, tenantOfKey } from './keys';
import { StorageError } from './errors';
import { assertObjectKey } from './object-store';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof StorageError ? e.code : 'not a StorageError';
  }
}

describe('key layout', () => {
  it('puts everything under tenants/<tenantId>/', () => {
    expect(keys.tenant('t1')).toBe('tenants/t1/');
    expect(keys.datasetSource('t1', 'd1', 'v1', 'upload.zip')).toBe(
      'tenants/t1/datasets/d1/versions/v1/source/upload.zip',
    );
    expect(keys.datasetShard('t1', 'd1', 'v1', 'train/000.bin')).toBe(
      'tenants/t1/datasets/d1/versions/v1/shards/train/000.bin',
    );
    expect(keys.datasetShardsPrefix('t1', 'd1', 'v1')).toBe('tenants/t1/datasets/d1/versions/v1/shards/');
    expect(keys.jobCheckpoint('t1', 'j1', 'step-10.json')).toBe(
      'tenants/t1/jobs/j1/checkpoints/step-10.json',
    );
    expect(keys.jobLog('t1', 'j1', 'trial-3.log')).toBe('tenants/t1/jobs/j1/logs/trial-3.log');
    expect(keys.modelFile('t1', 'm1', 'model.json')).toBe('tenants/t1/models/m1/model.json');
    expect(keys.model('t1', 'm1')).toBe('tenants/t1/models/m1/');
  });

  it('lays out what an ingestion writes, previews, checkpoints and files below a stored prefix', () => {
    expect(keys.datasetIngestedPrefix('t1', 'd1', 'v1')).toBe('tenants/t1/datasets/d1/versions/v1/ingested/');
    expect(keys.datasetPreviewsPrefix('t1', 'd1', 'v1')).toBe('tenants/t1/datasets/d1/versions/v1/preview/');
    expect(keys.datasetPreview('t1', 'd1', 'v1', 2, 7)).toBe(
      'tenants/t1/datasets/d1/versions/v1/preview/2/7.png',
    );
    expect(keys.jobCheckpoint('t1', 'j1', 'head.0.ckpt')).toBe('tenants/t1/jobs/j1/checkpoints/head.0.ckpt');
    expect(keys.within(keys.model('t1', 'm1'), 'download/model.zip')).toBe(
      'tenants/t1/models/m1/download/model.zip',
    );
    expect(keys.within(keys.datasetIngestedPrefix('t1', 'd1', 'v1'), 'index.json')).toBe(
      'tenants/t1/datasets/d1/versions/v1/ingested/index.json',
    );
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses preview index %p', (n) => {
    expect(codeOf(() => keys.datasetPreview('t1', 'd1', 'v1', n, 0))).toBe('INVALID_KEY');
    expect(codeOf(() => keys.datasetPreview('t1', 'd1', 'v1', 0, n))).toBe('INVALID_KEY');
  });

  it.each(['', 'tenants/t1', 'other/x/', 'tenants/../x/', 'tenants/t1//x/', 'tenants/t1/./x/'])(
    'refuses %j as a stored prefix',
    (prefix) => {
      expect(codeOf(() => keys.within(prefix, 'a.json'))).toBe('INVALID_KEY');
    },
  );

  it('refuses a file that leaves its stored prefix', () => {
    expect(codeOf(() => keys.within('tenants/t1/models/m1/', '../m2/model.json'))).toBe('INVALID_KEY');
  });

  it('accepts uuid and cuid ids', () => {
    expect(assertId('tenant', '0b0f3c1e-6a3c-4f43-9d7e-2b8a4c5d6e7f')).toBeTruthy();
    expect(assertId('job', 'clx2k9q0a0000abcd1234efgh')).toBeTruthy();
  });

  it.each(['', 'a/b', '..', 'a..b', '.hidden', 'a b', 'x\u0000', 'é', 'a'.repeat(129)])(
    'refuses id %j',
    (id) => {
      expect(codeOf(() => keys.tenant(id))).toBe('INVALID_KEY');
      expect(codeOf(() => keys.job('t1', id))).toBe('INVALID_KEY');
    },
  );

  it.each(['', '/abs', 'a//b', '../x', 'a/../b', 'a/./b', 'dir/', 'a\\b'])('refuses file path %j', (path) => {
    expect(codeOf(() => assertRelativePath(path))).toBe('INVALID_KEY');
  });

  it('finds the tenant of a key', () => {
    expect(tenantOfKey(keys.modelFile('t-9', 'm', 'x.bin'))).toBe('t-9');
    expect(tenantOfKey('other/x')).toBeNull();
    expect(tenantOfKey('tenants/../x')).toBeNull();
  });
});

describe('assertObjectKey', () => {
  it.each(['a', 'a/b.bin', 'tenants/t/', 'x y/é.txt'])('accepts %j', (key) => {
    expect(assertObjectKey(key)).toBe(key);
  });
  it.each(['', '/a', 'a//b', 'a/../b', './a', 'a\nb', 'x'.repeat(1025)])('refuses %j', (key) => {
    expect(codeOf(() => assertObjectKey(key))).toBe('INVALID_KEY');
  });
});
