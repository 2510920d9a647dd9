import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { databaseSchema, diffSchemas, expectedSchema, type SchemaShape } from './testing/schema-drift';
import { createTestDatabase, MIGRATIONS_DIR, type TestDatabase } from './testing';

// Creating and migrating a database takes a few seconds on a loaded 2-core machine.
jest.setTimeout(30_000);

const SCHEMA_PATH = join(MIGRATIONS_DIR, '..', 'schema.prisma');
const DIFF_TOOL = join(MIGRATIONS_DIR, '..', 'tools', 'migration-diff.js');

describe('migrations match schema.prisma', () => {
  let db: TestDatabase;
  let actual: SchemaShape;
  let expected: SchemaShape;

  beforeAll(async () => {
    db = await createTestDatabase();
    [actual, expected] = await Promise.all([
      databaseSchema(db.url),
      expectedSchema(readFileSync(SCHEMA_PATH, 'utf8')),
    ]);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('has exactly the tables, columns, types, nullability, defaults, indexes, foreign keys and enums of schema.prisma', () => {
    // A non-empty list here means schema.prisma and prisma/migrations disagree: write the migration (docs/database.md).
    expect(diffSchemas(expected, actual)).toEqual([]);
  });

  it('checks something real: the comparison covers every model', () => {
    expect(Object.keys(expected.tables).sort()).toEqual([
      'api_keys',
      'dataset_versions',
      'datasets',
      'deployments',
      'job_events',
      'jobs',
      'models',
      'tenants',
      'training_throughput',
      'trials',
      'uploads',
      'webhook_attempts',
      'webhook_deliveries',
      'webhook_endpoints',
      'webhook_events',
    ]);
    expect(expected.tables.jobs?.columns.status).toEqual({
      type: 'job_status',
      nullable: false,
      default: 'QUEUED',
    });
    expect(expected.tables.api_keys?.indexes.api_keys_prefix_key).toEqual({
      columns: ['prefix'],
      unique: true,
      primary: false,
    });
    expect(actual.tables.tenants?.columns.max_upload_bytes).toEqual({
      type: 'bigint',
      nullable: false,
      default: '10737418240',
    });
    expect(actual.tables.job_events?.columns.id).toEqual({
      type: 'bigint',
      nullable: false,
      default: 'autoincrement()',
    });
    expect(actual.tables.models?.foreignKeys.models_job_id_fkey).toEqual({
      columns: ['job_id'],
      refTable: 'jobs',
      refColumns: ['id'],
      onDelete: 'SET NULL',
      onUpdate: 'CASCADE',
    });
  });

  it('detects a schema.prisma edit that has no migration', async () => {
    const edited = readFileSync(SCHEMA_PATH, 'utf8')
      .replace(
        '  workerId          String?   @map("worker_id")',
        '  workerId          String?   @map("worker_id")\n  note String?',
      )
      .replace(
        '@@index([tenantId, status])\n  @@index([tenantId, createdAt])',
        '@@index([tenantId, createdAt])',
      )
      .replace('  PRUNED\n', '  PRUNED\n  SKIPPED\n');
    const diff = diffSchemas(await expectedSchema(edited), actual);
    expect(diff).toEqual(
      expect.arrayContaining([
        'table jobs.note: missing from the database',
        'table jobs index jobs_tenant_id_status_idx: in the database but not in schema.prisma',
        expect.stringMatching(/^enum trial_status: /),
      ]),
    );
  });

  it("satisfies Prisma's own differ: replaying the migrations leaves nothing to migrate", async () => {
    // The wasm schema engine, replaying prisma/migrations in a shadow database (see docs/database.md).
    const { stdout } = await promisify(execFile)(process.execPath, [DIFF_TOOL], {
      env: { ...process.env, DATABASE_URL: db.url },
      timeout: 60_000,
    });
    expect(stdout.trim()).toBe('-- This is an empty migration.');
  }, 90_000);
});
