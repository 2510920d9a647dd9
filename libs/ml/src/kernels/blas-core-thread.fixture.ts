/**
 * Run by blas-core-thread.spec.ts in a fresh process: `main` chooses the Sandybridge kernels with
 * chooseBlasCore in the main thread, `thread` sets OPENBLAS_CORETYPE inside the worker thread; either
 * way a worker thread then loads the addon and prints its config (OpenBLAS's core).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { chooseBlasCore } from './native-blas';

const ADDON = join(__dirname, '..', '..', 'native', 'build', 'Release', 'heap_blas.node');

/** The addon's path when it is built, for the spec's skip. */
export function findAddonForSpec(): string | undefined {
  return existsSync(ADDON) ? ADDON : undefined;
}

if (require.main === module) {
  const where = process.argv[2];
  if (where === 'main') chooseBlasCore('Sandybridge');
  const set = where === 'thread' ? "process.env.OPENBLAS_CORETYPE = 'Sandybridge';" : '';
  const w = new Worker(`${set} process.stdout.write(require(${JSON.stringify(ADDON)}).config());`, {
    eval: true,
  });
  w.on('error', (e) => {
    process.stderr.write(String(e));
    process.exitCode = 1;
  });
}
