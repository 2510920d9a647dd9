import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { configSchema } from '@modelsmith/config';
import { explainRouteId, predictRouteId } from '../../apps/serving/src/predict/predict-route';
import { readText, ROOT } from './compose-file';
import { DOC_FILES, nestRoutes, routesIn, upperSnakeNamesIn, type DocRoute } from './doc-references';

const tsSourcesUnder = (dir: string): string[] =>
  (readdirSync(join(ROOT, dir), { recursive: true }) as string[])
    .filter((f) => /(?<!\.spec|\.int-spec)\.ts$/.test(f))
    .map((f) => `${dir}/${f}`);

describe('docs/deployment.md configuration table', () => {
  it('lists exactly the settings of configSchema', () => {
    const text = readText('docs/deployment.md');
    const section = text.slice(text.indexOf('## Configuration'));
    const documented = [...section.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(configSchema.shape).sort());
  });
});

describe('routes named in README.md and docs/*.md', () => {
  const docs = DOC_FILES().flatMap((file) => routesIn(readText(file), file));
  const declared = ['api', 'serving', 'worker'].flatMap((app) => nestRoutes(app));
  // Routes outside the Nest controllers, each read from where it is set up.
  const swagger = /SwaggerModule\.setup\('([^']+)'[^)]*jsonDocumentUrl: '([^']+)'/.exec(
    readText('apps/api/src/configure-app.ts'),
  );
  const other = [
    { method: 'GET', path: `/${swagger?.[1]}` },
    { method: 'GET', path: `/${swagger?.[2]}` },
  ];
  // Answered by serving's PredictHandler before Nest routes it (predict and explain): matched with its own route tests.
  const isPredict = (method: string | undefined, path: string) =>
    predictRouteId(method ?? 'POST', path.replace(/:param/g, 'x')) !== undefined ||
    explainRouteId(method ?? 'POST', path.replace(/:param/g, 'x')) !== undefined;
  // Requests to other servers that docs describe, with why they are not Modelsmith routes.
  const foreign: Record<string, string> = {
    'GET /:param':
      'docs/storage.md: ListObjectsV2 (`GET /<bucket>?list-type=2`), a request to the S3-protocol server',
  };
  const exists = (r: DocRoute) =>
    `${r.method} ${r.path}` in foreign ||
    isPredict(r.method, r.path) ||
    [...declared, ...other].some(
      (d) => d.path === r.path && (r.method === undefined || r.method === d.method),
    );

  it('reads the routes of the apps and of the docs', () => {
    expect(swagger).not.toBeNull();
    expect(declared).toEqual(
      expect.arrayContaining([
        { method: 'POST', path: '/v1/datasets/:param/versions', app: 'api' },
        { method: 'GET', path: '/v1/health/ready', app: 'api' },
        { method: 'GET', path: '/v1/health/ready', app: 'serving' },
        { method: 'GET', path: '/health', app: 'worker' },
      ]),
    );
    expect(docs.length).toBeGreaterThan(40);
    expect(docs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ method: 'POST', path: '/v1/datasets/:param/versions' }),
        expect.objectContaining({ method: 'POST', path: '/v1/deployments/:param/predict' }),
        expect.objectContaining({ method: 'PATCH', path: '/v1/deployments/:param' }),
      ]),
    );
  });

  it('names only routes that exist (method + path)', () => {
    const missing = docs.filter((r) => !exists(r)).map((r) => `${r.method ?? '(any)'} ${r.path} at ${r.at}`);
    expect(missing).toEqual([]);
  });
});

describe('configuration variables named in README.md and docs/*.md', () => {
  const settings = new Set(Object.keys(configSchema.shape));
  // Names the code base uses as something else: problem and error codes, reasons, job kinds (quoted
  // string literals) and constants (`const NAME`) in apps/ and libs/ (generated code and specs aside).
  const sources = ['apps', 'libs']
    .flatMap((dir) => tsSourcesUnder(dir))
    .filter((f) => !f.includes('/generated/') && !f.startsWith('libs/config/'));
  const codeNames = new Set(
    sources.flatMap((f) =>
      [
        ...readText(f).matchAll(
          /['"]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['"]|\bconst ([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b/g,
        ),
      ].map((m) => m[1] ?? m[2]),
    ),
  );
  // Variables of other programs, each with the file that sets or reads it (checked) and why it is no setting of ours.
  const otherPrograms: Record<string, { file?: string; why: string }> = {
    MINIO_IMAGE: { file: 'docker-compose.yml', why: 'compose variable choosing the MinIO image' },
    MODELSMITH_URL: { file: 'apps/cli/src/config.ts', why: "the CLI's (a client of the platform)" },
    MODELSMITH_API_KEY: { file: 'apps/cli/src/config.ts', why: "the CLI's (a client of the platform)" },
    MODELSMITH_CONFIG_DIR: { file: 'apps/cli/src/config.ts', why: "the CLI's (a client of the platform)" },
    MINIO_ROOT_USER: { file: 'docker-compose.yml', why: "the MinIO container's own credentials" },
    MINIO_ROOT_PASSWORD: { file: 'docker-compose.yml', why: "the MinIO container's own credentials" },
    POSTGRES_PASSWORD: { file: 'docker-compose.yml', why: "the Postgres container's own setting" },
    MODELSMITH_VERSION: { file: 'docker-compose.yml', why: 'compose variable tagging the images' },
    PRISMA_SCHEMA_ENGINE_BINARY: {
      file: 'scripts/prisma-generate.js',
      why: "Prisma CLI's, set by the offline generate script",
    },
    PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: {
      file: 'scripts/prisma-generate.js',
      why: "Prisma CLI's, set by the offline generate script",
    },
    CHECKPOINT_DISABLE: {
      file: 'scripts/prisma-generate.js',
      why: "Prisma CLI's update check, set by the offline generate script",
    },
    PLATFORM_NODE_ARGS: {
      file: 'test/support/platform.ts',
      why: 'read by the e2e/bench harness, not by the platform',
    },
    PLATFORM_OUTPUT_DIR: {
      file: 'test/support/platform.ts',
      why: 'read by the e2e/bench harness, not by the platform',
    },
    FUZZ_SEED: {
      file: 'test/e2e/api-fuzz.e2e-spec.ts',
      why: 'read by the API fuzz spec (and bench/fuzz-api.ts), not by the platform',
    },
    FUZZ_RUNS: {
      file: 'test/e2e/api-fuzz.e2e-spec.ts',
      why: 'read by the API fuzz spec, not by the platform',
    },
    FUZZ_ONLY: {
      file: 'test/e2e/api-fuzz.e2e-spec.ts',
      why: 'read by the API fuzz spec, not by the platform',
    },
    FUZZ_PATH: {
      file: 'test/e2e/api-fuzz.e2e-spec.ts',
      why: 'read by the API fuzz spec, not by the platform',
    },
    CONSOLE_SCREENSHOTS: {
      file: 'test/e2e/console.e2e-spec.ts',
      why: "read by the web console's browser spec (a screenshot after every step), not by the platform",
    },
    OPENBLAS_CORETYPE: { why: "OpenBLAS's own kernel override, read by the library inside the native addon" },
    IS_NODE: { why: 'a TensorFlow.js environment flag, not an environment variable' },
    WASM_HAS_MULTITHREAD_SUPPORT: { why: 'a TensorFlow.js environment flag, not an environment variable' },
    CURRENT_TIMESTAMP: { why: 'SQL' },
    O_NOFOLLOW: {
      file: 'libs/storage/src/fs/object-file.ts',
      why: 'an open(2) flag the filesystem driver passes (fs.constants)',
    },
  };

  it('knows where each variable of another program is used', () => {
    for (const [name, { file }] of Object.entries(otherPrograms))
      if (file) expect(`${file}: ${readText(file).includes(name)}`).toBe(`${file}: true`);
  });

  it("names only settings of configSchema (or, named apart, codes, constants and other programs' variables)", () => {
    const names = DOC_FILES().flatMap((file) => upperSnakeNamesIn(readText(file), file));
    expect(names.some((n) => n.name === 'SERVING_MODEL_CACHE_MB')).toBe(true);
    const unknown = names
      .filter((n) => !settings.has(n.name) && !codeNames.has(n.name) && !(n.name in otherPrograms))
      .map((n) => `${n.name} at ${n.at}`);
    expect(unknown).toEqual([]);
  });
});
