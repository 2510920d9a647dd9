import { redisOptionsFromUrl } from './redis';

describe('redisOptionsFromUrl', () => {
  it('reads host, port, credentials, db and tls', () => {
    const o = redisOptionsFromUrl('rediss://user:p%40ss@cache.local:6380/3');
    expect(o).toMatchObject({
      host: 'cache.local',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 3,
      tls: {},
    });
    expect(o.maxRetriesPerRequest).toBeNull();
  });

  it('fails fast for producers instead of queueing commands offline', () => {
    const o = redisOptionsFromUrl('redis://x', { failFast: true });
    expect(o.enableOfflineQueue).toBe(false);
    expect(o.maxRetriesPerRequest).toBe(1);
    expect(redisOptionsFromUrl('redis://x').enableOfflineQueue).toBe(true);
  });

  it('defaults port and db', () => {
    const o = redisOptionsFromUrl('redis://127.0.0.1');
    expect(o).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(o.tls).toBeUndefined();
  });

  it('backs off with a cap', () => {
    const retry = redisOptionsFromUrl('redis://x').retryStrategy!;
    expect(retry(1)).toBeLessThan(retry(3) as number);
    expect(retry(100)).toBe(5_000);
  });
});
