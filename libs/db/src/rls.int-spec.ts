import { Client } from 'pg';
import { APP_ROLE } from './app-role';
import { createTestDatabase, type TestDatabase } from './testing';

// Creating and migrating a database takes a few seconds on a loaded 2-core machine.
jest.setTimeout(30_000);

/** Every table with a tenant_id column, from the catalog (so a new table cannot slip past). */
const TENANT_TABLES_SQL = `
  SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind = 'r'
    AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
  ORDER BY 1`;

describe('row-level security', () => {
  let db: TestDatabase;
  let owner: Client;
  let app: Client;
  const A = 'tenant-a';
  const B = 'tenant-b';

  /** Runs fn in a transaction of the application role scoped to `tenant` (or to none). */
  async function asTenant<T>(tenant: string | null, fn: () => Promise<T>): Promise<T> {
    await app.query('BEGIN');
    try {
      if (tenant !== null) await app.query("SELECT set_config('app.tenant_id', $1, true)", [tenant]);
      const result = await fn();
      await app.query('COMMIT');
      return result;
    } catch (err) {
      await app.query('ROLLBACK');
      throw err;
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    owner = new Client({ connectionString: db.url });
    app = new Client({ connectionString: db.appUrl });
    await Promise.all([owner.connect(), app.connect()]);
    await owner.query(`INSERT INTO tenants (id, name, slug) VALUES ($1, 'A', 'a'), ($2, 'B', 'b')`, [A, B]);
    for (const t of [A, B]) {
      await owner.query(`INSERT INTO jobs (id, tenant_id, kind) VALUES ($1, $2, 'NOOP'), ($3, $2, 'TRAIN')`, [
        `${t}-j1`,
        t,
        `${t}-j2`,
      ]);
      await owner.query(
        `INSERT INTO job_events (tenant_id, job_id, seq, type) VALUES ($1, $2, 1, 'created')`,
        [t, `${t}-j1`],
      );
      await owner.query(
        `INSERT INTO datasets (id, tenant_id, name, task) VALUES ($1, $2, 'd', 'TABULAR_REGRESSION')`,
        [`${t}-d`, t],
      );
      await owner.query(
        `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, scopes) VALUES ($1, $2, 'k', $1, 'h', '{ADMIN}')`,
        [`${t}-k`, t],
      );
    }
  });
  afterAll(async () => {
    await Promise.allSettled([owner?.end(), app?.end()]);
    await db?.drop();
  });

  it('connects as a role that is neither superuser nor BYPASSRLS', async () => {
    const { rows } = await app.query<{ user: string; rolsuper: boolean; rolbypassrls: boolean }>(
      'SELECT current_user AS user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
    );
    expect(rows).toEqual([{ user: APP_ROLE, rolsuper: false, rolbypassrls: false }]);
  });

  it('enables and forces RLS with a tenant policy on every table that has tenant_id', async () => {
    const tables = (
      await owner.query<{ table: string; enabled: boolean; forced: boolean }>(TENANT_TABLES_SQL)
    ).rows;
    expect(tables.length).toBeGreaterThanOrEqual(9);
    for (const t of tables) expect(t).toEqual({ table: t.table, enabled: true, forced: true });
    const policies = await owner.query<{ table: string; qual: string; with_check: string }>(
      `SELECT tablename AS table, qual, with_check FROM pg_policies WHERE schemaname = 'public'`,
    );
    for (const t of tables) {
      const p = policies.rows.filter((r) => r.table === t.table);
      expect(p).toHaveLength(1);
      expect(p[0]?.qual).toContain("current_setting('app.tenant_id'::text, true)");
      expect(p[0]?.with_check).toContain("current_setting('app.tenant_id'::text, true)");
    }
  });

  it("hides tenant A's rows from tenant B, even for a query with no where clause", async () => {
    const jobs = await asTenant(
      B,
      async () => (await app.query<{ id: string; tenant_id: string }>('SELECT * FROM jobs')).rows,
    );
    expect(jobs.map((j) => j.id).sort()).toEqual([`${B}-j1`, `${B}-j2`]);
    const byId = await asTenant(
      B,
      async () => (await app.query('SELECT * FROM jobs WHERE id = $1', [`${A}-j1`])).rows,
    );
    expect(byId).toEqual([]);
    for (const table of ['job_events', 'datasets', 'api_keys', 'tenants']) {
      const rows = await asTenant(
        B,
        async () => (await app.query<{ id: string }>(`SELECT * FROM ${table}`)).rows,
      );
      expect(rows.length).toBe(1);
      expect(rows.map((r) => JSON.stringify(r)).join()).not.toContain(A);
    }
  });

  it("lets tenant B neither update nor delete A's rows", async () => {
    const updated = await asTenant(
      B,
      async () => (await app.query(`UPDATE jobs SET stage = 'hacked'`)).rowCount,
    );
    expect(updated).toBe(2);
    const deleted = await asTenant(
      B,
      async () => (await app.query('DELETE FROM datasets WHERE id = $1', [`${A}-d`])).rowCount,
    );
    expect(deleted).toBe(0);
    const a = await owner.query<{ stage: string | null }>('SELECT stage FROM jobs WHERE tenant_id = $1', [A]);
    expect(a.rows.map((r) => r.stage)).toEqual([null, null]);
  });

  it('rejects inserting a row with a foreign tenant_id, and moving a row to another tenant', async () => {
    await expect(
      asTenant(B, () => app.query(`INSERT INTO jobs (id, tenant_id, kind) VALUES ('evil', $1, 'NOOP')`, [A])),
    ).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('row-level security') });
    await expect(asTenant(B, () => app.query('UPDATE jobs SET tenant_id = $1', [A]))).rejects.toMatchObject({
      code: '42501',
    });
    const evil = await owner.query(
      `SELECT 1 FROM jobs WHERE id = 'evil' OR (tenant_id = $1 AND id LIKE $2)`,
      [A, `${B}%`],
    );
    expect(evil.rowCount).toBe(0);
  });

  it("rejects a child row that points at another tenant's parent (tenant-consistent foreign keys)", async () => {
    // B knows (or guesses) the id of A's dataset / job: the row is B's, but its parent is A's.
    await expect(
      asTenant(B, () =>
        app.query(
          `INSERT INTO dataset_versions (tenant_id, dataset_id, version, split_seed) VALUES ($1, $2, 1, 7)`,
          [B, `${A}-d`],
        ),
      ),
    ).rejects.toMatchObject({ code: '23503' });
    await expect(
      asTenant(B, () =>
        app.query(`INSERT INTO job_events (tenant_id, job_id, seq, type) VALUES ($1, $2, 99, 'x')`, [
          B,
          `${A}-j1`,
        ]),
      ),
    ).rejects.toMatchObject({ code: '23503' });
    await expect(
      asTenant(B, () =>
        app.query(`INSERT INTO trials (tenant_id, job_id, index, params) VALUES ($1, $2, 0, '{}')`, [
          B,
          `${A}-j1`,
        ]),
      ),
    ).rejects.toMatchObject({ code: '23503' });
    const ok = await asTenant(B, () =>
      app.query(
        `INSERT INTO dataset_versions (tenant_id, dataset_id, version, split_seed) VALUES ($1, $2, 1, 7)`,
        [B, `${B}-d`],
      ),
    );
    expect(ok.rowCount).toBe(1);
  });

  it('shows nothing when no tenant is set, and the setting ends with the transaction', async () => {
    for (const table of [
      'tenants',
      'api_keys',
      'datasets',
      'dataset_versions',
      'uploads',
      'jobs',
      'job_events',
      'trials',
      'models',
      'deployments',
    ]) {
      expect((await app.query(`SELECT * FROM ${table}`)).rowCount).toBe(0);
    }
    await asTenant(A, () => app.query('SELECT 1'));
    expect((await app.query('SELECT * FROM jobs')).rowCount).toBe(0);
    await expect(
      asTenant(null, () => app.query(`INSERT INTO jobs (tenant_id, kind) VALUES ($1, 'NOOP')`, [A])),
    ).rejects.toMatchObject({
      code: '42501',
    });
  });

  it('keeps the application role away from migration bookkeeping and tenant writes', async () => {
    await expect(app.query('SELECT * FROM _prisma_migrations')).rejects.toMatchObject({ code: '42501' });
    await expect(
      asTenant(A, () => app.query(`UPDATE tenants SET max_concurrent_jobs = 1000`)),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it('appends job events through the sequence under RLS', async () => {
    const { rows } = await asTenant(A, () =>
      app.query<{ id: string }>(
        `INSERT INTO job_events (tenant_id, job_id, seq, type) VALUES ($1, $2, 2, 'progress') RETURNING id`,
        [A, `${A}-j1`],
      ),
    );
    expect(rows[0]?.id).toMatch(/^\d+$/);
  });
});
