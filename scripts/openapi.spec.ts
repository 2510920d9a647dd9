import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
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
