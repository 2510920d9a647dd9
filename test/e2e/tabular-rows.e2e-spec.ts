import type { RecordShardIndex } from '@modelsmith/datasets';
import { call, createTenant, startPlatform, type Platform } from '../support/platform';
import { jobSucceeded } from '../support/jobs';
import { readyVersion } from '../support/datasets';

jest.setTimeout(300_000);

/**
 * A seeded synthetic table shaped like repeated-measures data (realistic, not real: its use is the
 * row accounting): 100 feature combinations (`dose` 0-19, `arm` a-e), each measured 4 times. The
 * target `y` = 3·dose + arm effect + rounded noise, so the same features come with different targets
 * (label conflicts) and sometimes the same target (exact duplicates), as in panel data.
 */
function repeatedCsv(): { csv: string; rows: number; duplicates: number; conflicts: number } {
  let seed = 20261207;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const lines = ['dose,arm,y'];
  let duplicates = 0;
  let conflicts = 0;
  for (let dose = 0; dose < 20; dose++)
    for (let a = 0; a < 5; a++) {
      const seen = new Set<number>();
      for (let r = 0; r < 4; r++) {
        const y = 3 * dose + [0, 4, -4, 8, 2][a] + Math.round((rand() - 0.5) * 4);
        if (seen.has(y)) duplicates++;
        seen.add(y);
        lines.push(`${dose},${'abcde'[a]},${y}`);
      }
      if (seen.size > 1) conflicts++;
    }
  return { csv: lines.join('\n') + '\n', rows: 400, duplicates, conflicts };
}

describe('tabular ingestion keeps every row (API, worker, Postgres, Redis, S3)', () => {
  let p: Platform;
  let key: string;

  beforeAll(async () => {
    p = await startPlatform();
    key = (await createTenant(p, 'Rows')).key;
  });

  afterAll(async () => {
    await p?.stop();
  });

  it('counts duplicate and conflicting rows without skipping them, keeps equal features in one split, and trains on all rows', async () => {
    const data = repeatedCsv();
    // The generator does produce both kinds of copies (measured: 114 duplicates, 100 conflicts).
    expect(data.duplicates).toBeGreaterThan(20);
    expect(data.conflicts).toBeGreaterThan(50);
    const ds = await call(p.apiUrl, 'POST', '/v1/datasets', {
      token: key,
      body: { name: 'repeated', task: 'tabular-regression' },
    });
    expect(ds.status).toBe(201);
    const versionId = await readyVersion(
      p,
      key,
      ds.body.id as string,
      new Blob([data.csv], { type: 'text/csv' }),
      'repeated.csv',
      { target: 'y' },
    );
    const res = await call(p.apiUrl, 'GET', `/v1/datasets/${ds.body.id}/versions/${versionId}/report`, {
      token: key,
    });
    expect(res.status).toBe(200);
    const report = res.body.report;
    expect(report.totals).toEqual({
      entries: data.rows,
      samples: data.rows,
      skipped: 0,
      duplicates: data.duplicates,
      labelConflicts: data.conflicts,
    });
    expect(report.skippedByReason).toEqual({});
    expect(report.splits.train + report.splits.validation + report.splits.test).toBe(data.rows);
    const codes = (report.warnings as { code: string }[]).map((w) => w.code);
    expect(codes).toEqual(expect.arrayContaining(['duplicates_found', 'label_conflicts']));
    expect(codes).not.toContain('many_skipped');

    // The stored index: one sample per row with its own id; the 4 rows of a feature combination
    // (lines 2-5, 6-9, ...) sit in one split.
    const version = await p.system.datasetVersion.findUniqueOrThrow({ where: { id: versionId } });
    const index = JSON.parse(
      (await p.s3.store.getBytes(`${version.shardPrefix}index.json`)).toString(),
    ) as RecordShardIndex;
    expect(index.samples).toHaveLength(data.rows);
    expect(new Set(index.samples.map((s) => s.hash)).size).toBe(data.rows);
    const splitOf = new Map(index.samples.map((s) => [Number(s.path.split(':').pop()), s.split]));
    for (let g = 0; g < 100; g++) {
      const splits = new Set([0, 1, 2, 3].map((r) => splitOf.get(2 + 4 * g + r)));
      expect(splits.size).toBe(1);
    }

    // The dataset's task name is accepted as a job task (a dry run checks it like a real job); no
    // task and no dataset version is a 422 naming the field.
    const named = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { task: 'tabular-regression', datasetVersionId: versionId, dryRun: true },
    });
    expect(named.status).toBe(200);
    const none = await call(p.apiUrl, 'POST', '/v1/jobs', { token: key, body: {} });
    expect(none.status).toBe(422);
    expect(none.body).toMatchObject({ reason: 'TASK_REQUIRED', field: 'task' });
    const missing = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { datasetVersionId: '00000000-0000-4000-8000-000000000000' },
    });
    expect(missing.status).toBe(404);

    // Training (the task omitted: the dataset version's, tabular) reads every row of each split.
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { datasetVersionId: versionId, mode: 'fast', budget: { maxMinutes: 5 } },
    });
    expect(created.status).toBe(202);
    const job = await jobSucceeded(p, key, created.body.id, { what: 'tabular training', timeoutMs: 120_000 });
    expect(job.result.task).toBe('regression');
    expect(job.result.testSamples).toBe(report.splits.test);
    // y is 3·dose + arm effect + noise of ±2: R² measured 0.993; 0.9 leaves a margin.
    expect(job.result.r2).toBeGreaterThan(0.9);
  });
});
