import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * docs/storage.md: object keys are built only with libs/storage's key layout (`keys`). This spec
 * fails on an app source line that builds a key by concatenation instead: a template string that
 * starts with `tenants/`, or appends text to a `keys.…` call or a `…Prefix` value.
 */
const root = join(__dirname, '..', '..');

const CONCATENATED_KEY = [
  /`tenants\//,
  /`\$\{\s*(?:keys\.[^}]*|[\w.]*[pP]refix)\s*\}(?!`)/,
  /\bkeys\.\w+\([^)]*\)\s*\+/,
  /\b\w*[pP]refix\s*\+\s*['"`]/,
];

export function concatenatedKeys(source: string): string[] {
  return source.split('\n').filter((line) => CONCATENATED_KEY.some((re) => re.test(line)));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(e.name) ? [path] : [];
  });
}

describe('object keys in apps/ come from the key layout', () => {
  it('recognizes concatenated keys (and leaves layout calls alone)', () => {
    const bad = [
      'const k = `tenants/${t}/models/${m}/x.json`;',
      'await store.putBytes(`${modelPrefix}training-curves.json`, b);',
      'const p = `${keys.datasetVersion(t, d, v)}preview/`;',
      'get: (key) => store.getBytes(`${prefix}${key}.ckpt`),',
      "const p = keys.model(t, m) + 'download/';",
      "const k = shardPrefix + 'index.json';",
    ];
    const good = [
      "await store.putBytes(keys.modelFile(t, m, 'evaluation.json'), b);",
      'const k = keys.within(model.artifactPrefix, rel);',
      'const url = `${base}/v1/deployments/${id}/predict`;',
      'logger.log(`wrote ${prefix}`);',
    ];
    expect(bad.map((l) => concatenatedKeys(l).length)).toEqual(bad.map(() => 1));
    expect(good.flatMap(concatenatedKeys)).toEqual([]);
  });

  it('finds none in the apps', () => {
    const offenders = sourceFiles(join(root, 'apps')).flatMap((file) =>
      concatenatedKeys(readFileSync(file, 'utf8')).map((line) => `${relative(root, file)}: ${line.trim()}`),
    );
    expect(offenders).toEqual([]);
  });
});
