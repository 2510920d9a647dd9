/**
 * Builds the web console (apps/console) into dist/console: one minified ES module bundle and one
 * stylesheet under assets/, their names carrying a content hash (served as immutable), and index.html
 * naming them. Run by `npm run build` after tsc; the API serves the result under /console/.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(__dirname, '..', '..');
const app = join(root, 'apps', 'console');
const out = join(root, 'dist', 'console');

async function main(): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: [join(app, 'src', 'main.tsx')],
    tsconfig: join(app, 'tsconfig.json'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    outdir: join(out, 'assets'),
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
  const js = outputs.find((f) => /^main-.*\.js$/.test(f));
  const css = outputs.find((f) => /^main-.*\.css$/.test(f));
  if (!js || !css) throw new Error(`console build: no bundle among ${outputs.join(', ')}`);
  const html = readFileSync(join(app, 'index.html'), 'utf8').replace('%JS%', js).replace('%CSS%', css);
  writeFileSync(join(out, 'index.html'), html);
  const size = (f: string) => readFileSync(join(out, 'assets', f)).length;
  console.log(`console: dist/console/assets/${js} (${size(js)} B), ${css} (${size(css)} B)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
