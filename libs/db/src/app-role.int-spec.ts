import { Client } from 'pg';
import { APP_ROLE, ensureAppRole } from './app-role';
import { scramVerifierMatches } from './scram';
import { createTestDatabase, dropStaleTestDatabases, TEST_APP_PASSWORD, type TestDatabase } from './testing';

// Creating and migrating a database takes a few seconds on a loaded 2-core machine.
jest.setTimeout(30_000);

describe('ensureAppRole', () => {
  let db: TestDatabase;
  let owner: Client;
  const authid = async () =>
    (
      await owner.query<{ rolcanlogin: boolean; rolpassword: string }>(
        'SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = $1',
        [APP_ROLE],
      )
    ).rows[0];

  beforeAll(async () => {
    db = await createTestDatabase();
    owner = new Client({ connectionString: db.url });
    await owner.connect();
  });
  afterAll(async () => {
    await owner?.end();
    await db?.drop();
  });

  it('lets the application role log in with the configured password, stored as a SCRAM verifier', async () => {
    const row = await authid();
    expect(row?.rolcanlogin).toBe(true);
    expect(row?.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(scramVerifierMatches(row?.rolpassword ?? null, TEST_APP_PASSWORD)).toBe(true);
  });

  it('changes nothing when the role already has that password', async () => {
    const before = await authid();
    await ensureAppRole(db.url, TEST_APP_PASSWORD);
    expect((await authid())?.rolpassword).toBe(before?.rolpassword);
  });
});

describe('dropStaleTestDatabases', () => {
  it('drops only test databases older than the threshold', async () => {
    const fresh = await createTestDatabase({ migrate: false, prefix: 'ms_stale_probe' });
    const old = `ms_stale_probe_${(Date.now() - 7 * 3600_000).toString(36)}_deadbeef`;
    const admin = new Client({ connectionString: 'postgresql://root@127.0.0.1:5432/postgres' });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${old}"`);
      expect(await dropStaleTestDatabases({ prefix: 'ms_stale_probe' })).toEqual([old]);
      const { rows } = await admin.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE 'ms\\_stale\\_probe%'",
      );
      expect(rows.map((r) => r.datname)).toEqual([fresh.name]);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${old}"`);
      await admin.end();
      await fresh.drop();
    }
  });
});
