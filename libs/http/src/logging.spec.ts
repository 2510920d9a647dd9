import { redactUrlSecrets } from './logging';

describe('redactUrlSecrets', () => {
  it('hides presigned URL signatures and keeps the rest', () => {
    expect(redactUrlSecrets('/v1/objects/a/b?expires=1&signature=abc_DEF-1&filename=x')).toBe(
      '/v1/objects/a/b?expires=1&signature=[Redacted]&filename=x',
    );
    expect(redactUrlSecrets('/b/k?X-Amz-Expires=60&X-Amz-Signature=00ff')).toBe(
      '/b/k?X-Amz-Expires=60&X-Amz-Signature=[Redacted]',
    );
    expect(redactUrlSecrets('/v1/jobs?limit=10')).toBe('/v1/jobs?limit=10');
  });
});
