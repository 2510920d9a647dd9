// Three tiers: co-located unit specs (*.spec.ts), integration specs against real Postgres/Redis/S3
// (*.int-spec.ts), and end-to-end specs that drive the HTTP API (test/e2e/*.e2e-spec.ts).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
const moduleNameMapper = {
  '^@modelsmith/(contracts|config|db|storage|ml|datasets|jobs|http|serving|sdk)$': '<rootDir>/libs/$1/src',
  '^@modelsmith/(contracts|config|db|storage|ml|datasets|jobs|http|serving|sdk)/(.*)$':
    '<rootDir>/libs/$1/src/$2',
};
const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Tests assert behaviour, not speed: a loaded 2-core CI machine must not turn slow into failed.
  testTimeout: 120_000,
};
module.exports = {
  // A global option (ignored inside a project's config): the default of 5 s would apply otherwise.
  testTimeout: base.testTimeout,
  // Slowest files first, by the committed test/suite-times.json (a fresh clone has no timing cache).
  testSequencer: `${__dirname}/test/sequencer.js`,
  // Chooses the native BLAS kernels as the services do (ML_BLAS_CORE=auto) before the workers start.
  globalSetup: `${__dirname}/test/global-setup.ts`,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts,bench,test}/**/*.spec.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
