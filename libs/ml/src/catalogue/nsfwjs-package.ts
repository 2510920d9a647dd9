import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const nodeRequire = createRequire(__filename);

/** dist/ directory of the installed nsfwjs package, or undefined when it is not installed. */
export function nsfwjsDistDir(): string | undefined {
  try {
    return join(dirname(nodeRequire.resolve('nsfwjs')), '..');
  } catch {
    return undefined;
  }
}

/** Version of the installed nsfwjs package ('unknown' without one in its package.json), or undefined when absent. */
export function nsfwjsPackageVersion(): string | undefined {
  const dir = nsfwjsDistDir();
  if (dir === undefined) return undefined;
  try {
    const pkg = JSON.parse(readFileSync(join(dir, '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return undefined;
  }
}
