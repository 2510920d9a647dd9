import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { itIf } from '../../../../test/support/skip';
import { findAddonForSpec } from './blas-core-thread.fixture';

const addon = findAddonForSpec();

describe('the OpenBLAS kernel choice reaches an addon loaded in a worker thread', () => {
  // A worker thread's process.env is a copy: a core set there never reaches OpenBLAS. chooseBlasCore
  // called in the main thread (as serving's main does before its inference thread starts) does.
  itIf(!!addon, 'needs the native BLAS addon (scripts/ensure-deps.sh builds it)')(
    'chosen in the main thread, used by the thread; chosen in the thread, not',
    () => {
      const run = (where: 'main' | 'thread') =>
        spawnSync(
          process.execPath,
          ['--import', 'tsx', join(__dirname, 'blas-core-thread.fixture.ts'), where],
          {
            encoding: 'utf8',
            timeout: 60_000,
            env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'OPENBLAS_CORETYPE')),
          },
        );
      const main = run('main');
      expect(main.status).toBe(0);
      expect(main.stdout).toMatch(/; core Sandybridge$/);
      const thread = run('thread');
      expect(thread.status).toBe(0);
      expect(thread.stdout).not.toMatch(/; core Sandybridge$/);
    },
  );
});
