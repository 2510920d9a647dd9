#!/usr/bin/env node
// Runs `prisma generate` offline.
//
// The Prisma 7 CLI resolves its schema engine binary before running any command and downloads it
// from binaries.prisma.sh when absent, which fails without network. `generate` itself never runs
// the engine (it uses the bundled wasm), so pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing
// executable skips the download. We use the running node binary: it exists on every platform.
// (Verified on Prisma 7.10: the CLI only checks that the path resolves; it never executes it.)
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cli = require.resolve('prisma/build/index.js', { paths: [root] });
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
  PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: '1',
  CHECKPOINT_DISABLE: '1',
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
};
const result = spawnSync(process.execPath, [cli, 'generate', ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
});
if (result.error) {
  console.error(`prisma generate failed to start: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status === null ? 1 : result.status);
