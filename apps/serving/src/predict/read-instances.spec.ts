import { ProblemError } from '@modelsmith/http';
import { parseJsonBody } from './read-images';

const limits = { maxBytes: 1024, maxImages: 2, maxInstances: 3 };

describe('predict JSON bodies with "instances" (text models)', () => {
  it('passes the instances through as sent, with topK', () => {
    expect(parseJsonBody({ instances: ['a', 'b'], topK: 2 }, limits)).toEqual({
      images: [],
      instances: ['a', 'b'],
      topK: 2,
    });
  });

  it('refuses instances that are not an array with a 400 naming the field', () => {
    const e = (() => {
      try {
        parseJsonBody({ instances: 'hello' }, limits);
      } catch (x) {
        return x;
      }
    })() as ProblemError;
    expect(e).toBeInstanceOf(ProblemError);
    expect(e.status).toBe(400);
    expect(e.extensions).toMatchObject({ errors: [{ field: 'instances' }] });
  });

  it('refuses more instances than the cap with a 413 (the image cap does not apply)', () => {
    expect(parseJsonBody({ instances: ['a', 'b', 'c'] }, limits).instances).toHaveLength(3);
    expect(() => parseJsonBody({ instances: ['a', 'b', 'c', 'd'] }, limits)).toThrow(
      expect.objectContaining({ status: 413 }) as Error,
    );
  });
});
