import { Client } from 'pg';
import { createPrismaClient, createSystemPrismaClient, type SystemPrismaClient } from './client';
import type { PrismaClient } from './generated/client';
import { isTransactionStartTimeout, withTenant, type TenantTx } from './tenant';
import { createTestDatabase, type TestDatabase } from './testing';

// Creating and migrating a database takes a few seconds on a loaded 2-core machine.
jest.setTimeout(30_000);

describe('withTenant + generated client (end to end)', () => {
  let db: TestDatabase;
  let system: SystemPrismaClient;
  let app: PrismaClient;
  let ownerScoped: PrismaClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    system = await createSystemPrismaClient(db.url, { poolSize: 2 });
    app = createPrismaClient(db.appUrl, { poolSize: 2 });
    ownerScoped = createPrismaClient(db.url, { poolSize: 2 });
  });
  afterAll(async () => {
    await Promise.all([system?.$disconnect(), app?.$disconnect(), ownerScoped?.$disconnect()]);
    await db?.drop();
  });

  const newTenant = (slug: string) =>
    system.tenant.create({ data: { name: slug, slug: `${slug}-${Math.random().toString(36).slice(2)}` } });

  it('creates a tenant through the system client with schema defaults', async () => {
    const t = await newTenant('defaults');
    expect(t.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.status).toBe('ACTIVE');
    expect(t.maxConcurrentJobs).toBe(2);
    expect(t.maxUploadBytes).toBe(10_737_418_240n);
  });

  it('reports a duplicate slug as Prisma P2002 (unique constraint) through the pg adapter', async () => {
    const t = await newTenant('dup');
    await expect(system.tenant.create({ data: { name: 'again', slug: t.slug } })).rejects.toMatchObject({
      code: 'P2002',
    });
  });

  it('rejects an empty tenant id before touching the database', async () => {
    await expect(withTenant(app, '', async () => 1)).rejects.toMatchObject({ code: 'INVALID_TENANT_ID' });
  });

  it("scopes the app client to the transaction's tenant", async () => {
    const a = await newTenant('a');
    const b = await newTenant('b');
    const ds = await withTenant(app, a.id, (tx) =>
      tx.dataset.create({ data: { tenantId: a.id, name: 'flowers', task: 'IMAGE_CLASSIFICATION' } }),
    );
    expect(
      await withTenant(app, a.id, (tx) => tx.dataset.findUnique({ where: { id: ds.id } })),
    ).toMatchObject({ name: 'flowers' });
    expect(await withTenant(app, b.id, (tx) => tx.dataset.findUnique({ where: { id: ds.id } }))).toBeNull();
    expect(await withTenant(app, b.id, (tx) => tx.dataset.findMany())).toEqual([]);
    // Outside any tenant transaction the application role sees nothing at all.
    expect(await app.dataset.findMany()).toEqual([]);
    expect(await app.tenant.findMany()).toEqual([]);
    // The tenant row itself is visible to its own tenant only.
    expect(await withTenant(app, b.id, (tx) => tx.tenant.findMany())).toEqual([
      expect.objectContaining({ id: b.id }),
    ]);
    // The system client sees across tenants on purpose.
    expect(await system.dataset.findUnique({ where: { id: ds.id } })).not.toBeNull();
  });

  it('scopes even a client connected as the owner, inside withTenant', async () => {
    const a = await newTenant('oa');
    const b = await newTenant('ob');
    await withTenant(ownerScoped, a.id, (tx) =>
      tx.dataset.create({ data: { tenantId: a.id, name: 'x', task: 'TABULAR_REGRESSION' } }),
    );
    expect(await withTenant(ownerScoped, b.id, (tx) => tx.dataset.findMany())).toEqual([]);
    const rows = await withTenant(ownerScoped, b.id, (tx) => tx.$queryRaw<unknown[]>`SELECT * FROM datasets`);
    expect(rows).toEqual([]);
  });

  it('rejects writing a row for another tenant and rolls the transaction back', async () => {
    const a = await newTenant('wa');
    const b = await newTenant('wb');
    await expect(
      withTenant(app, b.id, async (tx) => {
        await tx.dataset.create({ data: { tenantId: b.id, name: 'mine', task: 'TEXT_CLASSIFICATION' } });
        await tx.dataset.create({ data: { tenantId: a.id, name: 'theirs', task: 'TEXT_CLASSIFICATION' } });
      }),
    ).rejects.toThrow(/row-level security/);
    expect(await system.dataset.count({ where: { tenantId: { in: [a.id, b.id] } } })).toBe(0);
  });

  it('does not leak the tenant setting to the next user of a pooled connection', async () => {
    const a = await newTenant('pa');
    await withTenant(app, a.id, (tx) =>
      tx.dataset.create({ data: { tenantId: a.id, name: 'p', task: 'TABULAR_CLASSIFICATION' } }),
    );
    for (let i = 0; i < 4; i++) expect(await app.dataset.count()).toBe(0);
    const raw = new Client({ connectionString: db.appUrl });
    await raw.connect();
    try {
      expect((await raw.query('SELECT * FROM datasets')).rowCount).toBe(0);
    } finally {
      await raw.end();
    }
  });

  describe('a transaction that cannot start within maxWait', () => {
    // One pooled connection, held by another transaction for HOLD_MS: a second transaction's start
    // waits for it longer than its maxWait of WAIT_MS. Margins are wide: the holder sleeps in Postgres
    // (pg_sleep), so a slow machine only makes the hold longer, never shorter.
    const HOLD_MS = 1_500;
    const WAIT_MS = 300;
    let single: PrismaClient;
    beforeAll(() => {
      single = createPrismaClient(db.appUrl, { poolSize: 1 });
    });
    afterAll(() => single?.$disconnect());

    const holdTheConnection = async (tenantId: string) => {
      let started!: () => void;
      const isStarted = new Promise<void>((r) => (started = r));
      const done = withTenant(
        single,
        tenantId,
        async (tx) => {
          started();
          await tx.$queryRaw`SELECT pg_sleep(${HOLD_MS / 1000})::text AS slept`;
        },
        { timeoutMs: 10_000 },
      );
      await isStarted;
      return done;
    };

    it('fails with P2028 when no retry is allowed', async () => {
      const t = await newTenant('busy');
      const held = holdTheConnection(t.id);
      const second = withTenant(single, t.id, (tx) => tx.dataset.findMany(), {
        maxWaitMs: WAIT_MS,
        startRetries: 0,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const error = await second;
      await held;
      expect(isTransactionStartTimeout(error)).toBe(true);
      expect(error).toMatchObject({ code: 'P2028' });
    });

    it('retries the start and then runs the work exactly once', async () => {
      const t = await newTenant('retry');
      const held = holdTheConnection(t.id);
      let runs = 0;
      const names = await withTenant(
        single,
        t.id,
        async (tx) => {
          runs++;
          await tx.dataset.create({
            data: { tenantId: t.id, name: 'after-wait', task: 'IMAGE_CLASSIFICATION' },
          });
          return (await tx.dataset.findMany()).map((d) => d.name);
        },
        { maxWaitMs: WAIT_MS, startRetries: 20 },
      );
      await held;
      expect(runs).toBe(1);
      expect(names).toEqual(['after-wait']);
    });

    it('does not retry other errors', async () => {
      const t = await newTenant('other');
      let runs = 0;
      await expect(
        withTenant(single, t.id, async () => {
          runs++;
          throw Object.assign(new Error('not a start timeout'), { code: 'P2028' });
        }),
      ).rejects.toThrow('not a start timeout');
      expect(runs).toBe(1);
    });
  });

  it("uses the client's transaction defaults (createPrismaClient transactionTimeoutMs), which a call's own options override", async () => {
    const t = await newTenant('defaults-tx');
    const short = createPrismaClient(db.appUrl, { poolSize: 1, transactionTimeoutMs: 300 });
    try {
      // 600 ms of database work: past the client's 300-ms timeout, well inside the library's 10 s.
      const slow = (tx: TenantTx) => tx.$queryRaw`SELECT pg_sleep(0.6)::text AS slept`;
      await expect(withTenant(short, t.id, slow)).rejects.toThrow(
        /expired transaction|Transaction already closed/,
      );
      await expect(withTenant(short, t.id, slow, { timeoutMs: 5_000 })).resolves.toBeDefined();
      await expect(withTenant(app, t.id, slow)).resolves.toBeDefined();
    } finally {
      await short.$disconnect();
    }
  });
});
