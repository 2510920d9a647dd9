import { ConfigError, loadConfig } from './load-config';

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

  it('takes ML_NATIVE_BLAS=off and names a bad value', () => {
    expect(loadConfig({ ...minimal, ML_NATIVE_BLAS: 'off' }).ML_NATIVE_BLAS).toBe('off');
    expect(() => loadConfig({ ...minimal, ML_NATIVE_BLAS: 'no' })).toThrow(/ML_NATIVE_BLAS/);
  });

  it('coerces numbers and lists', () => {
    const cfg = loadConfig({ ...minimal, API_PORT: '8080', WORKER_QUEUES: 'cpu, gpu' });
    expect(cfg.API_PORT).toBe(8080);
    expect(cfg.WORKER_QUEUES).toEqual(['cpu', 'gpu']);
  });

  it('names every missing or bad value', () => {
    let error: unknown;
    try {
      loadConfig({ API_PORT: 'not-a-port', DATABASE_URL: 'mysql://x', S3_ACCESS_KEY: 'a' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/API_PORT/);
    expect(message).toMatch(/DATABASE_URL: must be a postgres/);
    expect(message).toMatch(/S3_ENDPOINT: is required but not set/);
    expect(message).toMatch(/S3_SECRET_KEY: is required but not set/);
    expect(message).not.toMatch(/S3_ACCESS_KEY/);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ ...minimal, API_PORT: '' }).API_PORT).toBe(3000);
  });

  it('rejects a short admin token', () => {
    expect(() => loadConfig({ ...minimal, ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN: must be at least 24/);
  });
});
