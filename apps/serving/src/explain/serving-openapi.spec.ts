import { IMAGE_EXPLAIN_BOUNDS, SERVING_OPENAPI_PATHS, SERVING_OPENAPI_SCHEMAS } from '@modelsmith/contracts';
import { ProblemError } from '@modelsmith/http';
import { EXPLAIN_LIMITS } from '@modelsmith/ml';
import { parseExplainOptions, parseTextExplainOptions } from './explain-options';

/** The OpenAPI fragment describing serving's routes (libs/contracts) says what the serving app enforces. */
describe('serving routes in the OpenAPI document', () => {
  const props = (schema: string) =>
    (
      SERVING_OPENAPI_SCHEMAS[schema] as {
        properties: Record<string, { maximum?: number; minimum?: number }>;
      }
    ).properties;

  it("states libs/ml's image explanation bounds", () => {
    for (const k of ['steps', 'smoothgradSamples', 'limeSamples', 'segments'] as const)
      expect(IMAGE_EXPLAIN_BOUNDS[k]).toEqual(EXPLAIN_LIMITS[k]);
  });

  it('lists every option the parsers accept, and the parsers refuse one past the stated maximum', () => {
    const image = props('ImageExplainOptions');
    expect(Object.keys(image).sort()).toEqual(
      ['grid', 'method', 'overlay', 'samples', 'seed', 'segments', 'steps', 'target'].sort(),
    );
    for (const [k, { maximum }] of Object.entries(image))
      if (maximum !== undefined) {
        const method = k === 'samples' || k === 'segments' ? 'lime' : 'integrated-gradients';
        expect(() => parseExplainOptions({ method, [k]: maximum })).not.toThrow();
        expect(() => parseExplainOptions({ method, [k]: maximum + 1 })).toThrow(ProblemError);
      }
    const text = props('TextExplainOptions');
    expect(Object.keys(text).sort()).toEqual(['maxWords', 'method', 'samples', 'seed', 'target']);
    for (const [k, { maximum, minimum }] of Object.entries(text))
      if (maximum !== undefined) {
        expect(parseTextExplainOptions({ [k]: maximum })).toMatchObject({ [k]: maximum });
        expect(() => parseTextExplainOptions({ [k]: maximum + 1 })).toThrow(ProblemError);
        expect(() => parseTextExplainOptions({ [k]: (minimum ?? 0) - 1 })).toThrow(ProblemError);
      }
    // Image-only options are refused for text, with the field named.
    expect(() => parseTextExplainOptions({ grid: 8 })).toThrow(/grid/);
    expect(parseTextExplainOptions({})).toEqual({ method: 'lime', samples: 256, maxWords: 100, seed: 0 });
  });

  it('describes predict and explain on the serving app, with problem answers', () => {
    for (const path of ['/v1/deployments/{id}/predict', '/v1/models/{id}/explain']) {
      const item = SERVING_OPENAPI_PATHS[path] as {
        servers: unknown[];
        post: { responses: Record<string, unknown> };
      };
      expect(item.servers).toHaveLength(1);
      expect(Object.keys(item.post.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '422']));
    }
    // Every $ref points at a schema the fragment defines.
    const refs = JSON.stringify([SERVING_OPENAPI_PATHS, SERVING_OPENAPI_SCHEMAS]).match(
      /#\/components\/schemas\/\w+/g,
    )!;
    for (const r of refs) expect(SERVING_OPENAPI_SCHEMAS[r.split('/').pop()!]).toBeDefined();
  });
});
