import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { itIf } from '../test/support/skip';

const built = join(__dirname, '..', 'dist', 'scripts', 'openapi.js');

/**
 * The SDK (and the CLI, typed by it) is generated from what the API's controllers declare: a route
 * changed without `npm run sdk:generate` fails here, naming the files to regenerate. The API's modules
 * load only as built (some of their packages are ES modules jest cannot load), so this runs the built
 * script, as `npm test` leaves it.
 */
describe('libs/sdk is generated from the API as it is', () => {
  itIf(existsSync(built), 'the built script is missing: run npm run build')(
    'openapi.json and schema.ts match the document the API builds',
    async () => {
      const r = await promisify(execFile)(process.execPath, [built, '--check']).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
      );
      expect(r).toEqual({ code: 0, stderr: '' });
    },
  );
});

describe('the OpenAPI document types what every route answers', () => {
  interface Operation {
    responses?: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
  }
  const doc = JSON.parse(readFileSync(join(__dirname, '..', 'libs', 'sdk', 'openapi.json'), 'utf8')) as {
    paths: Record<string, Record<string, Operation>>;
  };

  it('gives each success answer with a body a schema, so the SDK types it', () => {
    const untyped: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        const ok = Object.entries(op.responses ?? {}).filter(
          ([code]) => /^2\d\d$/.test(code) && code !== '204',
        );
        const typed = ok.some(([, r]) =>
          Object.values(r.content ?? {}).some((c) => c.schema && Object.keys(c.schema).length > 0),
        );
        if (ok.length > 0 && !typed) untyped.push(`${method.toUpperCase()} ${path}`);
      }
    expect(untyped).toEqual([]);
  });
});
