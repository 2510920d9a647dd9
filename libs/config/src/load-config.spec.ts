import {
  apiPublicUrl,
  ConfigError,
  loadConfig,
  mlBackendOptions,
  trainThreads,
  trialThreads,
} from './load-config';

const minimal = { S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b' };

describe('loadConfig', () => {
  it('applies defaults for everything optional', () => {
    const cfg = loadConfig(minimal);
    expect(cfg.API_PORT).toBe(3000);
    expect(cfg.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(cfg.WORKER_QUEUES).toEqual(['cpu']);
    expect(cfg.ML_BACKEND).toBe('auto');
    expect(cfg.ML_NATIVE_BLAS).toBe('auto');
  });

  it('takes WORKER_TABULAR_WARM_UP on (default) or off and names a bad value', () => {
    expect(loadConfig(minimal).WORKER_TABULAR_WARM_UP).toBe('on');
    expect(loadConfig({ ...minimal, WORKER_TABULAR_WARM_UP: 'off' }).WORKER_TABULAR_WARM_UP).toBe('off');
    expect(() => loadConfig({ ...minimal, WORKER_TABULAR_WARM_UP: 'false' })).toThrow(
      /WORKER_TABULAR_WARM_UP/,
    );
  });

  it('takes ML_NATIVE_BLAS=off and names a bad value', () => {
    expect(loadConfig({ ...minimal, ML_NATIVE_BLAS: 'off' }).ML_NATIVE_BLAS).toBe('off');
    expect(() => loadConfig({ ...minimal, ML_NATIVE_BLAS: 'no' })).toThrow(/ML_NATIVE_BLAS/);
  });

  it('takes ML_BLAS_CORE as auto, openblas or a core name, and rejects anything else', () => {
    expect(mlBackendOptions(loadConfig(minimal)).blasCore).toBe('auto');
    expect(mlBackendOptions(loadConfig({ ...minimal, ML_BLAS_CORE: 'SkylakeX' })).blasCore).toBe('SkylakeX');
    expect(() => loadConfig({ ...minimal, ML_BLAS_CORE: 'Sky lake; rm' })).toThrow(/ML_BLAS_CORE/);
  });

  it('gives a training run the cores its worker does not share (TRAIN_THREADS=auto), or the number set', () => {
    expect(trainThreads(loadConfig(minimal), 2)).toBe(2);
    expect(trainThreads(loadConfig({ ...minimal, WORKER_CONCURRENCY: '2' }), 2)).toBe(1);
    expect(trainThreads(loadConfig({ ...minimal, WORKER_CONCURRENCY: '3' }), 2)).toBe(1);
    expect(trainThreads(loadConfig({ ...minimal, TRAIN_THREADS: '1' }), 8)).toBe(1);
    expect(trainThreads(loadConfig({ ...minimal, TRAIN_THREADS: '4' }), 2)).toBe(4);
    expect(() => loadConfig({ ...minimal, TRAIN_THREADS: '0' })).toThrow(/TRAIN_THREADS/);
    // Search trials: the cores shared by the trials one worker trains at once.
    expect(trialThreads(loadConfig(minimal), 2)).toBe(2);
    expect(trialThreads(loadConfig({ ...minimal, TRIAL_CONCURRENCY: '2' }), 2)).toBe(1);
    expect(trialThreads(loadConfig({ ...minimal, TRAIN_THREADS: '1' }), 8)).toBe(1);
    const d = loadConfig(minimal);
    expect([d.SEARCH_TRIALS, d.TRIAL_CONCURRENCY, d.WORKER_LOCK_DURATION_MS]).toEqual(['queue', 1, 30_000]);
    expect(() => loadConfig({ ...minimal, SEARCH_TRIALS: 'threads' })).toThrow(/SEARCH_TRIALS/);
    expect(d.SEARCH_DEFAULT_TRIAL).toBe('on');
    expect(loadConfig({ ...minimal, SEARCH_DEFAULT_TRIAL: 'off' }).SEARCH_DEFAULT_TRIAL).toBe('off');
    expect(() => loadConfig({ ...minimal, SEARCH_DEFAULT_TRIAL: 'yes' })).toThrow(/SEARCH_DEFAULT_TRIAL/);
    expect(d.SEARCH_CONTINUATION).toBe('on');
    expect(loadConfig({ ...minimal, SEARCH_CONTINUATION: 'off' }).SEARCH_CONTINUATION).toBe('off');
  });

  it('coerces numbers and lists', () => {
    const cfg = loadConfig({ ...minimal, API_PORT: '8080', WORKER_QUEUES: 'cpu, gpu' });
    expect(cfg.API_PORT).toBe(8080);
    expect(cfg.WORKER_QUEUES).toEqual(['cpu', 'gpu']);
  });

  it('names every missing or bad value', () => {
    let error: unknown;
    try {
      loadConfig({
        API_PORT: 'not-a-port',
        DATABASE_URL: 'mysql://x',
        S3_ENDPOINT: 'http://127.0.0.1:9000',
        S3_ACCESS_KEY: 'a',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/API_PORT/);
    expect(message).toMatch(/DATABASE_URL: must be a postgres/);
    expect(message).toMatch(/S3_SECRET_KEY: is required with S3_ENDPOINT/);
    expect(message).not.toMatch(/S3_ACCESS_KEY/);
  });

  it('without S3_ENDPOINT needs the filesystem store settings, and nothing of S3', () => {
    expect(() => loadConfig({})).toThrow(/STORAGE_DIR: is required when S3_ENDPOINT is not set/);
    expect(() => loadConfig({})).toThrow(/STORAGE_URL_SECRET: is required when S3_ENDPOINT is not set/);
    expect(() => loadConfig({ STORAGE_DIR: '/tmp/x', STORAGE_URL_SECRET: 'short' })).toThrow(
      /STORAGE_URL_SECRET: must be at least 32/,
    );
    const cfg = loadConfig({ STORAGE_DIR: '/tmp/x', STORAGE_URL_SECRET: 'x'.repeat(32) });
    expect(cfg.S3_ENDPOINT).toBeUndefined();
    expect(cfg.STORAGE_DIR).toBe('/tmp/x');
  });

  it('the API base URL is PUBLIC_URL or the listening address', () => {
    expect(apiPublicUrl(loadConfig(minimal))).toBe('http://127.0.0.1:3000');
    expect(apiPublicUrl(loadConfig({ ...minimal, PUBLIC_URL: 'https://ms.example.com/' }))).toBe(
      'https://ms.example.com',
    );
    expect(apiPublicUrl(loadConfig({ ...minimal, API_HOST: '::1', API_PORT: '8080' }))).toBe(
      'http://[::1]:8080',
    );
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ ...minimal, API_PORT: '' }).API_PORT).toBe(3000);
  });

  it('rejects a short admin token', () => {
    expect(() => loadConfig({ ...minimal, ADMIN_TOKEN: 'short' })).toThrow(
      /ADMIN_TOKEN: must be at least 24/,
    );
  });
});
