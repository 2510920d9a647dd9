import { normalizeDbDefault, prismaConstraintName } from './schema-drift';

describe('schema-drift helpers', () => {
  it("names constraints like Prisma, truncating to Postgres' 63 characters", () => {
    expect(prismaConstraintName('jobs', ['tenant_id', 'status'], 'idx')).toBe('jobs_tenant_id_status_idx');
    expect(prismaConstraintName('jobs', ['id'], 'pkey')).toBe('jobs_pkey');
    const long = prismaConstraintName(
      'a_really_long_table_name_for_testing',
      ['another_long_column', 'and_one_more_column'],
      'key',
    );
    expect(long).toHaveLength(63);
    expect(long.endsWith('_key')).toBe(true);
  });

  it('reduces pg_get_expr defaults to comparable values', () => {
    expect(normalizeDbDefault(null)).toBeNull();
    expect(normalizeDbDefault("nextval('job_events_id_seq'::regclass)")).toBe('autoincrement()');
    expect(normalizeDbDefault('CURRENT_TIMESTAMP')).toBe('now()');
    expect(normalizeDbDefault("'ACTIVE'::tenant_status")).toBe('ACTIVE');
    expect(normalizeDbDefault("'10737418240'::bigint")).toBe('10737418240');
    expect(normalizeDbDefault("'{}'::jsonb")).toBe('{}');
    expect(normalizeDbDefault("'it''s'::text")).toBe("it's");
    expect(normalizeDbDefault('0')).toBe('0');
    expect(normalizeDbDefault('0.5')).toBe('0.5');
    expect(normalizeDbDefault("'-1'::integer")).toBe('-1');
    expect(normalizeDbDefault('true')).toBe('true');
    expect(normalizeDbDefault('(gen_random_uuid())::text')).toBe('(gen_random_uuid())::text');
  });
});
