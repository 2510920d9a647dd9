import { BadRequestException, NotFoundException } from '@nestjs/common';
import { toProblem } from './problem.filter';
import { ProblemError } from './problem';

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
    const e = Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413, limit: 100 });
    const p = toProblem(e);
    expect(p.status).toBe(413);
    expect(p.code).toBe('PAYLOAD_TOO_LARGE');
    expect(p.detail).toContain('100 bytes');
  });

  it('hides internals of unknown errors', () => {
    const p = toProblem(new Error('password=hunter2'));
    expect(p.status).toBe(500);
    expect(p.code).toBe('INTERNAL');
    expect(p.detail).toBeUndefined();
  });
});
