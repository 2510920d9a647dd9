import { assertDocumentedAnswer, toJsonSchema } from './response-contract';

describe('response contract (answers checked against libs/sdk/openapi.json)', () => {
  const dataset = {
    id: 'd1',
    name: 'flowers',
    task: 'image-classification',
    description: null,
    createdAt: '2026-12-06T00:00:00.000Z',
    latestVersion: null,
  };

  it('passes an answer that matches, with nulls where the document allows them', () => {
    expect(() => assertDocumentedAnswer('GET', '/v1/health/live', 200, { status: 'ok' })).not.toThrow();
    expect(() => assertDocumentedAnswer('POST', '/v1/datasets', 201, dataset)).not.toThrow();
    expect(() =>
      assertDocumentedAnswer('GET', '/v1/datasets?limit=5', 200, { items: [dataset], nextCursor: null }),
    ).not.toThrow();
  });

  it('names what differs: a wrong enum, a missing field, a null where none is allowed', () => {
    expect(() => assertDocumentedAnswer('GET', '/v1/health/live', 200, { status: 'fine' })).toThrow(
      /GET \/v1\/health\/live answered 200 .*\/status must be equal to one of the allowed values/,
    );
    const { name: _name, ...noName } = dataset;
    expect(() => assertDocumentedAnswer('POST', '/v1/datasets', 201, noName)).toThrow(
      /must have required property 'name'/,
    );
    expect(() => assertDocumentedAnswer('POST', '/v1/datasets', 201, { ...dataset, id: null })).toThrow(
      /\/id must be string/,
    );
    expect(() =>
      assertDocumentedAnswer('GET', '/v1/datasets/abc', 200, { ...dataset, versions: [{ id: 1 }] }),
    ).toThrow(/\/versions\/0/);
  });

  it('leaves alone what the document does not describe', () => {
    expect(() => assertDocumentedAnswer('GET', '/v1/health/live', 503, { anything: 1 })).not.toThrow();
    expect(() => assertDocumentedAnswer('GET', '/v1/not-a-route', 200, 42)).not.toThrow();
  });

  it('turns OpenAPI nullable into a null alternative and points refs at the whole document', () => {
    expect(toJsonSchema({ type: 'string', nullable: true, example: 'x' })).toEqual({
      anyOf: [{ type: 'null' }, { type: 'string' }],
    });
    expect(toJsonSchema({ $ref: '#/components/schemas/JobDto' })).toEqual({
      $ref: 'openapi#/components/schemas/JobDto',
    });
  });
});
