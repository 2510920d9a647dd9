import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { WEBHOOK_QUEUE } from '@modelsmith/contracts';
import { TEST_REDIS, useJobsTestbed } from '../../../../test/support/jobs-testbed';
import { WebhookDeliverer } from './deliverer';
import { WebhookRelay } from './relay';
import { generateWebhookSecret } from './signing';

describe('webhook outbox (real Postgres and Redis)', () => {
  const bed = useJobsTestbed();
  let queue: Queue;

  beforeAll(() => {
    queue = new Queue(WEBHOOK_QUEUE, { connection: TEST_REDIS, prefix: bed.prefix });
  });
  afterAll(async () => {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  });

  const endpoint = (tenantId: string, events: string[], more: { enabled?: boolean; url?: string } = {}) =>
    bed.system.webhookEndpoint.create({
      data: {
        tenantId,
        url: more.url ?? 'https://example.com/h',
        events,
        secret: generateWebhookSecret(),
        enabled: more.enabled ?? true,
      },
    });

  it('writes the event and one delivery per subscribed, enabled endpoint in the transaction that ends the job', async () => {
    const t = await bed.tenant();
    const other = await bed.tenant();
    const wanted = await endpoint(t.id, ['job.succeeded']);
    await endpoint(t.id, ['job.failed']);
    await endpoint(t.id, ['job.succeeded'], { enabled: false });
    await endpoint(other.id, ['job.succeeded']);
    const job = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
    await bed.store.start({ tenantId: t.id, jobId: job.id }, 'w1');
    await bed.store.finish({ tenantId: t.id, jobId: job.id }, 'SUCCEEDED', { result: { ok: true } });
    const deliveries = await bed.system.webhookDelivery.findMany({
      where: { tenantId: t.id },
      include: { event: true },
    });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ endpointId: wanted.id, status: 'PENDING', enqueuedAt: null });
    expect(deliveries[0].event).toMatchObject({
      type: 'job.succeeded',
      data: { job: { id: job.id, status: 'SUCCEEDED' } },
    });
    expect(await bed.system.webhookDelivery.count({ where: { tenantId: other.id } })).toBe(0);
  });

  it('writes nothing when the transaction that would have ended the job rolls back', async () => {
    const t = await bed.tenant();
    await endpoint(t.id, ['job.succeeded']);
    const job = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
    await bed.store.start({ tenantId: t.id, jobId: job.id }, 'w1');
    await expect(
      bed.store.finish({ tenantId: t.id, jobId: job.id }, 'SUCCEEDED', {
        commit: () => Promise.reject(new Error('the commit hook failed')),
      }),
    ).rejects.toThrow('the commit hook failed');
    expect((await bed.system.job.findUniqueOrThrow({ where: { id: job.id } })).status).toBe('RUNNING');
    expect(await bed.system.webhookEvent.count({ where: { tenantId: t.id } })).toBe(0);
  });

  it('relays each delivery to the queue once, even with two relays racing, and marks it enqueued', async () => {
    const t = await bed.tenant();
    await endpoint(t.id, ['job.cancelled']);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
      await bed.store.requestCancel(t.id, job.id);
      ids.push(job.id);
    }
    const rows = await bed.system.webhookDelivery.findMany({ where: { tenantId: t.id } });
    expect(rows).toHaveLength(3);
    const relay = () => new WebhookRelay(bed.system, queue, { maxAttempts: 3, backoffMs: 100 });
    await Promise.all([relay().relay(), relay().relay()]);
    // The relay works across tenants: earlier tests' deliveries are queued too.
    const queued = (await queue.getJobs(['waiting', 'delayed', 'prioritized'])).filter(
      (j) => (j.data as { tenantId: string }).tenantId === t.id,
    );
    expect(queued.map((j) => j.id).sort()).toEqual(rows.map((r) => r.id).sort());
    for (const j of queued)
      expect(j.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 100 } });
    expect(await bed.system.webhookDelivery.count({ where: { tenantId: t.id, enqueuedAt: null } })).toBe(0);
    expect(await relay().relay()).toBe(0);
  });

  it('re-enqueues a delivery whose queue job was lost, and leaves one whose job still exists', async () => {
    const t = await bed.tenant();
    await endpoint(t.id, ['job.cancelled']);
    for (let i = 0; i < 2; i++) {
      const job = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
      await bed.store.requestCancel(t.id, job.id);
    }
    const relay = new WebhookRelay(bed.system, queue, {
      maxAttempts: 3,
      backoffMs: 100,
      recheckAfterMs: 60_000,
    });
    while ((await relay.relay()) > 0);
    const [lost, kept] = await bed.system.webhookDelivery.findMany({
      where: { tenantId: t.id },
      orderBy: { id: 'asc' },
    });
    // Redis loses one job (a flush or a restart without persistence).
    await (await queue.getJob(lost.id))!.remove();
    expect(await queue.getJob(lost.id)).toBeUndefined();
    const later = new Date(Date.now() + 2 * 60_000);
    // Not yet stale: nothing is checked.
    expect(await relay.recoverLost(new Date())).toBe(0);
    expect(await queue.getJob(lost.id)).toBeUndefined();
    // Stale: the lost one is queued again, the other is not duplicated. (Earlier tests' deliveries
    // are stale too and still queued, so they count for nothing.)
    expect(await relay.recoverLost(later)).toBe(1);
    expect((await queue.getJob(lost.id))?.data).toEqual({ tenantId: t.id, deliveryId: lost.id });
    const ofTenant = (await queue.getJobs(['waiting', 'delayed', 'prioritized'])).filter(
      (j) => (j.data as { tenantId: string }).tenantId === t.id,
    );
    expect(ofTenant.map((j) => j.id).sort()).toEqual([lost.id, kept.id].sort());
    // Both were seen just now, so a second pass checks neither.
    expect(await relay.recoverLost(later)).toBe(0);
    const seen = await bed.system.webhookDelivery.findMany({ where: { tenantId: t.id } });
    for (const d of seen) expect(d.enqueuedAt?.getTime()).toBe(later.getTime());
  });

  describe('the deliverer re-checks the target at send time', () => {
    let server: Server;
    let hits = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        hits++;
        req.resume();
        res.writeHead(204).end();
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    });
    afterAll(() => new Promise((done) => server.close(done)));

    it('fails a delivery for good when its saved target is no longer allowed, without connecting', async () => {
      const t = await bed.tenant();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      // Saved while the operator allowed private targets; the setting is now off.
      await endpoint(t.id, ['job.cancelled'], { url });
      const job = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
      await bed.store.requestCancel(t.id, job.id);
      const d = await bed.system.webhookDelivery.findFirstOrThrow({ where: { tenantId: t.id } });
      const strict = new WebhookDeliverer(bed.app, { policy: { allowPrivate: false }, timeoutMs: 2000 });
      const outcome = await strict.attempt({ tenantId: t.id, deliveryId: d.id }, false);
      expect(outcome).toMatchObject({ kind: 'permanent', error: expect.stringMatching(/loopback/) });
      expect(hits).toBe(0);
      const after = await bed.system.webhookDelivery.findUniqueOrThrow({
        where: { id: d.id },
        include: { attemptsLog: true },
      });
      expect(after).toMatchObject({ status: 'FAILED', attempts: 1 });
      expect(after.attemptsLog).toEqual([
        expect.objectContaining({ attempt: 1, statusCode: null, error: expect.stringMatching(/loopback/) }),
      ]);
      // Settled: a duplicate delivery of the same queue job changes nothing.
      expect(await strict.attempt({ tenantId: t.id, deliveryId: d.id }, false)).toEqual({ kind: 'done' });

      const open = new WebhookDeliverer(bed.app, { policy: { allowPrivate: true }, timeoutMs: 2000 });
      const job2 = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
      await bed.store.requestCancel(t.id, job2.id);
      const d2 = await bed.system.webhookDelivery.findFirstOrThrow({
        where: { tenantId: t.id, status: 'PENDING' },
      });
      expect(await open.attempt({ tenantId: t.id, deliveryId: d2.id }, false)).toEqual({ kind: 'done' });
      expect(hits).toBe(1);
    });
  });
});
