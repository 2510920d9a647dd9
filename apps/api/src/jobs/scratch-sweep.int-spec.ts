import { createSystemPrismaClient, type SystemPrismaClient } from '@modelsmith/db';
import { createTestDatabase, type TestDatabase } from '@modelsmith/db/testing';
import { keys } from '@modelsmith/storage';
import { startTestS3, type TestS3 } from '../../../../test/support/s3';
import { sweepJobScratch } from './scratch-sweep';

jest.setTimeout(60_000);

const HOUR = 3_600_000;

describe('sweepJobScratch against Postgres and an S3-protocol server', () => {
  let db: TestDatabase;
  let system: SystemPrismaClient;
  let s3: TestS3;

  beforeAll(async () => {
    [db, s3] = await Promise.all([createTestDatabase(), startTestS3()]);
    system = await createSystemPrismaClient(db.url, { poolSize: 4 });
  });
  afterAll(async () => {
    await system?.$disconnect();
    await Promise.all([db?.drop(), s3?.stop()]);
  });

  const now = new Date('2026-11-29T12:00:00Z');
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const tenant = () =>
    system.tenant.create({ data: { name: 't', slug: `t-${Math.random().toString(36).slice(2)}` } });
  const put = (key: string) => s3.store.putBytes(key, Buffer.from(key));
  const exists = async (key: string) => (await s3.store.stat(key)) !== null;
  const job = (
    tenantId: string,
    kind: 'TRAIN' | 'BATCH_PREDICT',
    status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED',
    finishedAt: Date | null,
    options?: object,
  ) => system.job.create({ data: { tenantId, kind, status, finishedAt, options: options ?? {} } });

  it('deletes checkpoints and batch inputs of jobs finished longer ago than the retention, once, and nothing else', async () => {
    const t = await tenant();
    const other = await tenant();
    // A training job that failed 2 h ago: checkpoints go, its logs and outputs stay.
    const failed = await job(t.id, 'TRAIN', 'FAILED', ago(2 * HOUR));
    const failedFiles = [
      keys.jobCheckpoint(t.id, failed.id, 'slot-a/weights.bin'),
      keys.jobCheckpoint(t.id, failed.id, 'slot-b/state.json'),
    ];
    const kept = [keys.jobLog(t.id, failed.id, 'events.jsonl'), keys.jobOutput(t.id, failed.id, 'x.jsonl')];
    // A batch job cancelled 3 h ago: its input goes.
    const input = keys.batchInput(t.id, 'u1', 'photos.zip');
    const cancelled = await job(t.id, 'BATCH_PREDICT', 'CANCELLED', ago(3 * HOUR), {
      inputKey: input,
      inputName: 'photos.zip',
      inputSize: 10,
    });
    // Within the retention, still running, or pointing at another tenant's key: untouched.
    const recent = await job(t.id, 'TRAIN', 'FAILED', ago(HOUR / 2));
    const running = await job(t.id, 'TRAIN', 'RUNNING', null);
    const foreignInput = keys.batchInput(other.id, 'u2', 'theirs.zip');
    const hostile = await job(t.id, 'BATCH_PREDICT', 'FAILED', ago(5 * HOUR), {
      inputKey: foreignInput,
      inputName: 'x',
      inputSize: 1,
    });
    const untouched = [
      keys.jobCheckpoint(t.id, recent.id, 'w.bin'),
      keys.jobCheckpoint(t.id, running.id, 'w.bin'),
      foreignInput,
    ];
    for (const key of [...failedFiles, ...kept, input, ...untouched]) await put(key);

    const logged: string[] = [];
    const result = await sweepJobScratch(system, s3.store, {
      retentionMs: HOUR,
      now,
      log: (m) => logged.push(m),
    });
    expect(result).toEqual({ jobs: 3, objects: 3, failed: 0 });
    for (const key of [...failedFiles, input]) expect(await exists(key)).toBe(false);
    for (const key of [...kept, ...untouched]) expect(await exists(key)).toBe(true);
    expect(logged.join('\n')).toContain(hostile.id);

    const rows = await system.job.findMany({
      where: { tenantId: t.id },
      select: { id: true, scratchClearedAt: true },
    });
    const cleared = new Map(rows.map((r) => [r.id, r.scratchClearedAt]));
    expect(cleared.get(failed.id)).toEqual(now);
    expect(cleared.get(cancelled.id)).toEqual(now);
    expect(cleared.get(hostile.id)).toEqual(now);
    expect(cleared.get(recent.id)).toBeNull();
    expect(cleared.get(running.id)).toBeNull();

    // Visited once: a checkpoint written again afterwards is not looked for.
    await put(failedFiles[0]);
    expect(await sweepJobScratch(system, s3.store, { retentionMs: HOUR, now })).toEqual({
      jobs: 0,
      objects: 0,
      failed: 0,
    });
    expect(await exists(failedFiles[0])).toBe(true);
    // Later, the recent job's time comes.
    expect(
      await sweepJobScratch(system, s3.store, { retentionMs: HOUR, now: new Date(now.getTime() + HOUR) }),
    ).toMatchObject({ jobs: 1, objects: 1 });
    expect(await exists(untouched[0])).toBe(false);
  });

  it('leaves a job unmarked when its delete fails, and clears it on the next sweep', async () => {
    const t = await tenant();
    const failed = await job(t.id, 'TRAIN', 'CANCELLED', ago(2 * HOUR));
    const key = keys.jobCheckpoint(t.id, failed.id, 'w.bin');
    await put(key);
    const broken = Object.assign(
      Object.create(Object.getPrototypeOf(s3.store) as object) as typeof s3.store,
      s3.store,
      {
        deletePrefix: () => Promise.reject(new Error('store unavailable')),
      },
    );
    const logged: string[] = [];
    expect(
      await sweepJobScratch(system, broken, { retentionMs: HOUR, now, log: (m) => logged.push(m) }),
    ).toMatchObject({ failed: 1 });
    expect(logged.join('\n')).toContain('store unavailable');
    expect((await system.job.findUniqueOrThrow({ where: { id: failed.id } })).scratchClearedAt).toBeNull();
    expect(await sweepJobScratch(system, s3.store, { retentionMs: HOUR, now })).toMatchObject({
      jobs: 1,
      objects: 1,
      failed: 0,
    });
    expect(await exists(key)).toBe(false);
  });
});
