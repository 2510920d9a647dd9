import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { KeyRateLimiter } from './key-rate-limiter';
import { ProblemError } from './problem';
import type { TenantPrincipal } from './principal';

/** KeyRateLimiter against the real Redis (127.0.0.1:6379), each test with its own key prefix. */
describe('KeyRateLimiter (Redis)', () => {
  let redis: Redis;
  let prefix: string;

  const principal = (rateLimitPerMinute: number | null): TenantPrincipal => ({
    kind: 'api-key',
    tenantId: 't',
    keyId: randomBytes(6).toString('hex'),
    scopes: ['PREDICT'],
    rateLimitPerMinute,
  });

  async function refusal(limiter: KeyRateLimiter, p: TenantPrincipal): Promise<ProblemError> {
    const e: unknown = await limiter.consume(p).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!(e instanceof ProblemError)) throw new Error(`expected a refusal, got ${String(e)}`);
    return e;
  }

  beforeAll(() => {
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  });
  beforeEach(() => {
    prefix = `test-ratelimit-${randomBytes(4).toString('hex')}`;
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.disconnect());

  it("allows the key's own limit per minute, then refuses with 429, Retry-After and the limit", async () => {
    const limiter = new KeyRateLimiter(redis, { prefix, defaultLimitPerMinute: 1_000 });
    const key = principal(3);
    const states = [];
    for (let i = 0; i < 3; i++) states.push(await limiter.consume(key));
    expect(states.map((s) => s?.remaining)).toEqual([2, 1, 0]);
    expect(states.every((s) => s?.limit === 3)).toBe(true);
    const refused = await refusal(limiter, key);
    expect(refused.status).toBe(429);
    expect(refused.code).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers['Retry-After']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['X-RateLimit-Remaining']).toBe('0');
    // Counted in Redis: the key's counter is there, under the prefix.
    expect(await redis.keys(`${prefix}:*${key.keyId}`)).toHaveLength(1);
  });

  it('shares one budget between processes (two limiters on one Redis), and keys do not share', async () => {
    const api = new KeyRateLimiter(redis, { prefix, defaultLimitPerMinute: 1_000 });
    const serving = new KeyRateLimiter(redis, { prefix, defaultLimitPerMinute: 1_000 });
    const key = principal(2);
    await api.consume(key);
    await serving.consume(key);
    expect((await refusal(api, key)).status).toBe(429);
    expect((await refusal(serving, key)).status).toBe(429);
    expect(await api.consume(principal(2))).toMatchObject({ limit: 2, remaining: 1 });
  });

  it('applies the default to keys without a limit of their own; 0 means unlimited', async () => {
    const limiter = new KeyRateLimiter(redis, { prefix, defaultLimitPerMinute: 1 });
    const key = principal(null);
    expect(await limiter.consume(key)).toMatchObject({ limit: 1, remaining: 0 });
    expect((await refusal(limiter, key)).status).toBe(429);
    const unlimited = new KeyRateLimiter(redis, { prefix, defaultLimitPerMinute: 0 });
    for (let i = 0; i < 5; i++) expect(await unlimited.consume(key)).toBeNull();
  });

  it('keeps limiting in memory while Redis is unreachable', async () => {
    const offline = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    offline.on('error', () => undefined);
    try {
      const limiter = new KeyRateLimiter(offline, { prefix, defaultLimitPerMinute: 1_000 });
      const key = principal(2);
      expect(await limiter.consume(key)).toMatchObject({ remaining: 1 });
      expect(await limiter.consume(key)).toMatchObject({ remaining: 0 });
      expect((await refusal(limiter, key)).status).toBe(429);
    } finally {
      offline.disconnect();
    }
  });
});
