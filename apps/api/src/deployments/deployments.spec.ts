import { Logger } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import type { PrismaClient } from '@modelsmith/db';
import { ServingNotices } from '../notices/serving-notices';
import { DeploymentsService } from './deployments.service';
import type { ServingCalibrator } from './serving-calibrator';

const config = (over: Partial<AppConfig>) =>
  ({ SERVING_HOST: '127.0.0.1', SERVING_PORT: 3002, QUEUE_PREFIX: 'ms', ...over }) as AppConfig;

describe('DeploymentsService.predictUrl', () => {
  const url = (over: Partial<AppConfig>) =>
    new DeploymentsService(
      {} as PrismaClient,
      config(over),
      {} as ServingNotices,
      {} as ServingCalibrator,
    ).predictUrl('d1');

  it('points at the serving app: its public URL when set, else its host and port', () => {
    expect(url({})).toBe('http://127.0.0.1:3002/v1/deployments/d1/predict');
    expect(url({ SERVING_HOST: 'serving', SERVING_PORT: 8080 })).toBe(
      'http://serving:8080/v1/deployments/d1/predict',
    );
    expect(url({ SERVING_PUBLIC_URL: 'https://predict.example.com/' })).toBe(
      'https://predict.example.com/v1/deployments/d1/predict',
    );
    expect(url({ SERVING_PUBLIC_URL: 'https://example.com/ml' })).toBe(
      'https://example.com/ml/v1/deployments/d1/predict',
    );
  });
});

/** Stands in for the ioredis client: lazy until connected, with scripted connect/publish outcomes. */
function fakeRedis(connect: () => Promise<void>) {
  const fake = {
    status: 'wait',
    connects: 0,
    published: [] as [string, string][],
    connect: async () => {
      fake.connects++;
      fake.status = 'connecting';
      try {
        await connect();
        fake.status = 'ready';
      } catch (e) {
        fake.status = 'reconnecting';
        throw e;
      }
    },
    publish: async (channel: string, message: string) => {
      if (fake.status !== 'ready')
        throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
      fake.published.push([channel, message]);
      return 1;
    },
    disconnect: () => undefined,
  };
  return fake;
}

function eventsWith(redis: ReturnType<typeof fakeRedis>): ServingNotices {
  const events = new ServingNotices(config({ REDIS_URL: 'redis://127.0.0.1:6379' })); // lazy: opens nothing
  (events as unknown as { redis: unknown }).redis = redis;
  return events;
}

describe('ServingNotices', () => {
  it('publishes {deploymentId, tenantId} on <prefix>:deployments and {keyId, tenantId} on <prefix>:api-keys; concurrent notices share one connect', async () => {
    const redis = fakeRedis(() => new Promise((r) => setTimeout(r, 20)));
    const events = eventsWith(redis);
    await Promise.all([
      events.deploymentChanged({ tenantId: 't', deploymentId: 'd1' }),
      events.deploymentChanged({ tenantId: 't', deploymentId: 'd2' }),
      events.apiKeyRevoked({ tenantId: 't', keyId: 'k1' }),
    ]);
    expect(redis.connects).toBe(1);
    expect(redis.published.map(([c, m]) => [c, JSON.parse(m) as unknown])).toEqual([
      ['ms:deployments', { tenantId: 't', deploymentId: 'd1' }],
      ['ms:deployments', { tenantId: 't', deploymentId: 'd2' }],
      ['ms:api-keys', { tenantId: 't', keyId: 'k1' }],
    ]);
  });

  it('never fails the request when Redis cannot be reached: the notice is logged and dropped', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const events = eventsWith(
        fakeRedis(() => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'))),
      );
      await expect(
        Promise.all([
          events.deploymentChanged({ tenantId: 't', deploymentId: 'd1' }),
          events.deploymentChanged({ tenantId: 't', deploymentId: 'd2' }),
        ]),
      ).resolves.toEqual([undefined, undefined]);
      // While ioredis reconnects in the background a notice fails fast instead of waiting.
      await expect(events.deploymentChanged({ tenantId: 't', deploymentId: 'd3' })).resolves.toBeUndefined();
      expect(
        warn.mock.calls.map((c) => String(c[0])).filter((m) => m.startsWith('could not announce')),
      ).toHaveLength(3);
    } finally {
      warn.mockRestore();
    }
  });
});
