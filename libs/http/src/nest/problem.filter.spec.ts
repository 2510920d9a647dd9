import { BadRequestException, NotFoundException } from '@nestjs/common';
import { ProblemError } from '../problem';
import { isDependencyUnavailable, MAX_DETAIL_CHARS, problemBody } from '../problem-response';
import { toProblem } from './problem.filter';

describe('toProblem', () => {
  it('keeps domain problems as they are', () => {
    const p = new ProblemError({ status: 429, code: 'QUOTA_EXCEEDED', title: 'Quota exceeded' });
    expect(toProblem(p)).toBe(p);
  });

  it('maps Nest HTTP exceptions to stable codes', () => {
    expect(toProblem(new NotFoundException('Cannot GET /x')).code).toBe('NOT_FOUND');
    const bad = toProblem(new BadRequestException(['a must be a string', 'b is required']));
    expect(bad.status).toBe(400);
    expect(bad.detail).toBe('a must be a string; b is required');
  });

  it('maps body-parser limit errors to 413', () => {
    const e = Object.assign(new Error('request entity too large'), {
      type: 'entity.too.large',
      status: 413,
      limit: 100,
    });
    const p = toProblem(e);
    expect(p.status).toBe(413);
    expect(p.code).toBe('PAYLOAD_TOO_LARGE');
    expect(p.detail).toContain('100 bytes');
  });

  it('maps object-store errors to a 4xx or a retried 503, never echoing the key', () => {
    const storage = (code: string) =>
      Object.assign(new Error(`object tenants/t1/models/m1/model.json: ${code}`), {
        name: 'StorageError',
        code,
      });
    const missing = toProblem(storage('OBJECT_NOT_FOUND'));
    expect({ status: missing.status, code: missing.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(missing.detail).not.toContain('tenants/');
    expect(toProblem(storage('ENTITY_TOO_LARGE')).status).toBe(413);
    expect(toProblem(storage('INVALID_RANGE')).status).toBe(400);
    expect(toProblem(storage('UPLOAD_NOT_FOUND')).status).toBe(409);
    for (const code of [
      'STORAGE_UNAVAILABLE',
      'STORAGE_ERROR',
      'BUCKET_NOT_FOUND',
      'NOT_SUPPORTED_BY_BACKEND',
    ]) {
      const p = toProblem(storage(code));
      expect({ status: p.status, code: p.code, retry: p.headers['Retry-After'] }).toEqual({
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
        retry: '2',
      });
    }
    // Another error that merely has a code is not taken for a storage one.
    expect(toProblem(Object.assign(new Error('x'), { code: 'OBJECT_NOT_FOUND' })).status).toBe(500);
  });

  it('hides internals of unknown errors', () => {
    const p = toProblem(new Error('password=hunter2'));
    expect(p.status).toBe(500);
    expect(p.code).toBe('INTERNAL');
    expect(p.detail).toBeUndefined();
  });

  it('answers 503 with Retry-After when a dependency is unreachable, and 500 for other errors', () => {
    const named = (name: string, message: string, extra: Record<string, unknown> = {}) =>
      Object.assign(new Error(message), { name, ...extra });
    const outages = [
      new Error('Connection terminated unexpectedly'), // node-postgres, seen with Postgres cut mid-request
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      new Error('query failed', {
        cause: new Error('wrapped', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }),
      }),
      named('PrismaClientKnownRequestError', "Can't reach database server", { code: 'P1001' }),
      named('PrismaClientKnownRequestError', 'Timed out fetching a new connection from the connection pool', {
        code: 'P2024',
      }),
      named('PrismaClientInitializationError', 'Authentication failed'),
      named('MaxRetriesPerRequestError', 'Reached the max retries per request limit'),
      new Error('Connection is closed.'), // ioredis
    ];
    for (const e of outages) {
      expect(isDependencyUnavailable(e)).toBe(true);
      const p = toProblem(e);
      expect(p).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', headers: { 'Retry-After': '2' } });
      expect(p.detail).not.toContain(e.message);
    }
    const others = [
      new Error('password=hunter2'),
      named('PrismaClientKnownRequestError', 'Unique constraint failed', { code: 'P2002' }),
      Object.assign(new Error('no such file'), { code: 'ENOENT' }),
      new Error('outer', {
        cause: new Error('inner', {
          cause: new Error('deeper', {
            cause: new Error('deepest', { cause: new Error('Connection terminated unexpectedly') }),
          }),
        }),
      }),
      'Connection terminated unexpectedly',
    ];
    for (const e of others) {
      expect(isDependencyUnavailable(e)).toBe(false);
      expect(toProblem(e).status).toBe(500);
    }
  });
});

describe('problemBody', () => {
  it('writes the RFC 9457 members, the code and the request id', () => {
    const body = JSON.parse(
      problemBody(
        new ProblemError({
          status: 404,
          code: 'NOT_FOUND',
          title: 'Not found',
          detail: 'job x does not exist',
        }),
        '/v1/jobs/x',
        'r1',
      ),
    );
    expect(body).toEqual({
      type: 'https://modelsmith.dev/problems/not-found',
      title: 'Not found',
      status: 404,
      detail: 'job x does not exist',
      instance: '/v1/jobs/x',
      code: 'NOT_FOUND',
      requestId: 'r1',
    });
  });

  it('cuts a detail longer than MAX_DETAIL_CHARS, so that a problem never echoes a huge input whole', () => {
    const body = JSON.parse(
      problemBody(
        new ProblemError({
          status: 400,
          code: 'BAD_REQUEST',
          title: 'Bad',
          detail: `x${'y'.repeat(200_000)}`,
        }),
        '/',
        'r',
      ),
    );
    expect(body.detail).toHaveLength(MAX_DETAIL_CHARS + '… (cut)'.length);
    expect(body.detail.startsWith('xyyy')).toBe(true);
  });
});
