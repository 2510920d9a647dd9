import type { ArgumentMetadata } from '@nestjs/common';
import { problemBody, ProblemError } from '@modelsmith/http';
import { CreateApiKeyDto } from '../api-keys/dto/api-key.dto';
import { CreateDatasetDto } from '../datasets/dto/dataset.dto';
import { CreateDeploymentDto } from '../deployments/dto/deployment.dto';
import { JobEventsQueryDto, ListJobsQueryDto } from '../jobs/dto/job.dto';
import { CreateTenantDto } from '../tenants/dto/create-tenant.dto';
import { MAX_LISTED_FIELDS, PlatformValidationPipe } from './validation';

// The package index also loads its Nest queue module (ESM-only @nestjs/bullmq); the DTOs need only the accelerator names.
jest.mock('@modelsmith/jobs', () => jest.requireActual<object>('@modelsmith/jobs/routing'));

const pipe = new PlatformValidationPipe();
const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });
const query = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'query', metatype });
const param = (name: string): ArgumentMetadata => ({ type: 'param', metatype: String, data: name });

async function problemOf(p: Promise<unknown>): Promise<ProblemError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ProblemError) return e;
    throw e;
  }
  throw new Error('expected a problem');
}

const fields = (p: ProblemError) => (p.extensions.errors as { field: string }[]).map((e) => e.field);

describe('PlatformValidationPipe', () => {
  it('passes valid input through, transformed', async () => {
    const dto = (await pipe.transform(
      { name: 'flowers', task: 'image-classification', description: 'line 1\nline 2' },
      body(CreateDatasetDto),
    )) as CreateDatasetDto;
    expect(dto).toBeInstanceOf(CreateDatasetDto);
    expect(dto.description).toBe('line 1\nline 2');
  });

  it('refuses a NUL or other control character in any string of a body, naming the field', async () => {
    const p = await problemOf(
      pipe.transform({ name: 'flo\u0000wers', task: 'image-classification' }, body(CreateDatasetDto)),
    );
    expect(p).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(fields(p)).toEqual(['name']);
    expect(p.detail).toContain('name: must not contain control characters');
    expect(
      fields(
        await problemOf(
          pipe.transform({ modelId: 'x', config: { topK: 3 }, name: 'a\u001bb' }, body(CreateDeploymentDto)),
        ),
      ),
    ).toEqual(['name']);
    expect(
      fields(
        await problemOf(
          pipe.transform({ name: 'k', scopes: ['READ', 'PRE\u0000DICT'] }, body(CreateApiKeyDto)),
        ),
      ),
    ).toEqual(['scopes.1']);
  });

  it('allows tab and newlines only in free-text fields, never NUL', async () => {
    expect(
      fields(
        await problemOf(
          pipe.transform({ name: 'two\nlines', task: 'image-classification' }, body(CreateDatasetDto)),
        ),
      ),
    ).toEqual(['name']);
    expect(
      fields(
        await problemOf(
          pipe.transform(
            { name: 'ok', task: 'image-classification', description: 'a\u0000' },
            body(CreateDatasetDto),
          ),
        ),
      ),
    ).toEqual(['description']);
  });

  it('refuses control characters in queries and answers a non-UUID id path parameter 404', async () => {
    expect(fields(await problemOf(pipe.transform({ cursor: 'ab\u0000' }, query(ListJobsQueryDto))))).toEqual([
      'cursor',
    ]);
    for (const id of [
      'nope',
      'abc\u0000',
      '../etc',
      'x'.repeat(10_000),
      '00000000-0000-0000-0000-00000000000g',
    ]) {
      expect(await problemOf(pipe.transform(id, param('id')))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
    }
    expect(await problemOf(pipe.transform('nope', param('versionId')))).toMatchObject({ status: 404 });
    const uuid = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';
    expect(await pipe.transform(uuid, param('id'))).toBe(uuid);
    expect(await pipe.transform(uuid.toUpperCase(), param('uploadId'))).toBe(uuid.toUpperCase());
  });

  it('bounds numbers to what Postgres int4 holds and dates to 1970..9999', async () => {
    expect(
      fields(await problemOf(pipe.transform({ after: '3000000000' }, query(JobEventsQueryDto)))),
    ).toEqual(['after']);
    expect(fields(await problemOf(pipe.transform({ after: '1e20' }, query(JobEventsQueryDto))))).toEqual([
      'after',
    ]);
    expect(
      ((await pipe.transform({ after: '2147483647' }, query(JobEventsQueryDto))) as JobEventsQueryDto).after,
    ).toBe(2147483647);
    expect(
      fields(
        await problemOf(pipe.transform({ createdAfter: '0000-01-01T00:00:00Z' }, query(ListJobsQueryDto))),
      ),
    ).toEqual(['createdAfter']);
    expect(
      fields(
        await problemOf(
          pipe.transform({ createdBefore: '+275760-09-13T00:00:00Z' }, query(ListJobsQueryDto)),
        ),
      ),
    ).toEqual(['createdBefore']);
    expect(
      fields(
        await problemOf(pipe.transform({ name: 't', computeMinutesPerMonth: 1e15 }, body(CreateTenantDto))),
      ),
    ).toEqual(['computeMinutesPerMonth']);
  });

  it('refuses an API key that would be born expired, naming expiresAt', async () => {
    const past = await problemOf(
      pipe.transform(
        { name: 'k', scopes: ['READ'], expiresAt: new Date(Date.now() - 60_000).toISOString() },
        body(CreateApiKeyDto),
      ),
    );
    expect(fields(past)).toEqual(['expiresAt']);
    expect(past.detail).toContain('expiresAt must be in the future');
    expect(
      fields(
        await problemOf(
          pipe.transform(
            { name: 'k', scopes: ['READ'], expiresAt: '99999-01-01T00:00:00Z' },
            body(CreateApiKeyDto),
          ),
        ),
      ),
    ).toEqual(['expiresAt']);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect(
      (
        (await pipe.transform(
          { name: 'k', scopes: ['READ'], expiresAt: future },
          body(CreateApiKeyDto),
        )) as CreateApiKeyDto
      ).expiresAt,
    ).toBe(future);
  });

  it('never echoes the input back whole: long member names are cut and at most 20 fields are listed (the API fuzz got a 65 KB problem for a 30 KB body)', async () => {
    const long = 'a'.repeat(30_000);
    const many = Object.fromEntries([...Array(500).keys()].map((i) => [`extra${i}`, 1]));
    const p = await problemOf(
      pipe.transform(
        { name: 'flowers', task: 'image-classification', [long]: { [long]: 1 }, ...many },
        body(CreateDatasetDto),
      ),
    );
    expect(p).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      extensions: { moreErrors: 501 - MAX_LISTED_FIELDS },
    });
    expect(fields(p)).toHaveLength(MAX_LISTED_FIELDS);
    // Still names what is wrong: the field's start and its length.
    expect(fields(p)[0]).toBe(`${'a'.repeat(120)}… (30000 characters)`);
    expect(p.detail).toMatch(/; and 481 more field\(s\)$/);
    expect(problemBody(p, '/v1/datasets', 'r').length).toBeLessThan(16_000);
  });

  it('cuts long names of members holding control characters the same way', async () => {
    const p = await problemOf(
      pipe.transform(
        { name: 'flowers', task: 'image-classification', ['b'.repeat(10_000)]: '\u0000' },
        body(CreateDatasetDto),
      ),
    );
    expect(fields(p)[0]).toBe(`${'b'.repeat(120)}… (10000 characters)`);
    expect(problemBody(p, '/v1/datasets', 'r').length).toBeLessThan(2_000);
  });

  it('refuses a JSON null in a body, naming the member, instead of passing it on as if absent (the API fuzz: computeMinutesPerMonth null was a 500)', async () => {
    const p = await problemOf(
      pipe.transform({ name: 'a', computeMinutesPerMonth: null }, body(CreateTenantDto)),
    );
    expect(p).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(fields(p)).toEqual(['computeMinutesPerMonth']);
    expect(
      fields(
        await problemOf(
          pipe.transform(
            { modelId: '11111111-1111-4111-8111-111111111111', config: { topK: null } },
            body(CreateDeploymentDto),
          ),
        ),
      ),
    ).toEqual(['config.topK']);
    // Leaving the member out is still fine.
    expect(await pipe.transform({ name: 'a' }, body(CreateTenantDto))).toBeInstanceOf(CreateTenantDto);
  });
});
