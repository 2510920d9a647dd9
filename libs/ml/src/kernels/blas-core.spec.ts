import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { itIf } from '../../../../test/support/skip';
import { autoBlasCore, cpuFlags, familyOfFlags, probeOpenBlasCore } from './blas-core';
import { NO_OPENBLAS, openBlasPresent } from './test-utils';

const AVX512 = new Set(['sse3', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512dq']);
const AVX2 = new Set(['sse3', 'avx', 'avx2', 'fma']);
const ADDON = path.resolve(__dirname, '../../native/build/Release/heap_blas.node');

describe('OpenBLAS kernel choice (ML_BLAS_CORE)', () => {
  it('auto upgrades a generic pick to the strongest family the CPU flags allow, and never downgrades', () => {
    expect(autoBlasCore('Prescott', AVX512)).toBe('SkylakeX');
    expect(autoBlasCore('Prescott', AVX2)).toBe('Haswell');
    expect(autoBlasCore('Nehalem', new Set(['avx']))).toBe('Sandybridge');
    expect(autoBlasCore('Haswell', AVX512)).toBe('SkylakeX');
    // A recognized pick of the CPU's own family stays (Cooperlake is AVX-512 like SkylakeX).
    expect(autoBlasCore('Cooperlake', AVX512)).toBeNull();
    expect(autoBlasCore('Zen', AVX2)).toBeNull();
    // Flags weaker than the pick, or none known (no /proc/cpuinfo): nothing changes.
    expect(autoBlasCore('SkylakeX', AVX2)).toBeNull();
    expect(autoBlasCore('Prescott', new Set())).toBeNull();
    // AVX-512 F alone (no BW/VL/DQ) is not enough for SkylakeX kernels.
    expect(familyOfFlags(new Set([...AVX2, 'avx512f']))).toBe(2);
  });

  it('reads the flags line of cpuinfo, and nothing from a missing file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cpuinfo-'));
    const file = path.join(dir, 'cpuinfo');
    fs.writeFileSync(file, 'processor\t: 0\nflags\t\t: fpu sse3 avx avx2 fma\nbugs\t: none\n');
    expect([...cpuFlags(file)]).toEqual(['fpu', 'sse3', 'avx', 'avx2', 'fma']);
    expect(cpuFlags(path.join(dir, 'absent')).size).toBe(0);
  });

  itIf(openBlasPresent, NO_OPENBLAS)(
    "probes OpenBLAS's own pick in a child process, and OPENBLAS_CORETYPE set before the addon loads takes effect",
    () => {
      expect(probeOpenBlasCore(ADDON)).toMatch(/^[A-Za-z0-9]+$/);
      const r = spawnSync(
        process.execPath,
        [
          '-e',
          `process.env.OPENBLAS_CORETYPE = 'Haswell'; process.stdout.write(require(${JSON.stringify(ADDON)}).config())`,
        ],
        { encoding: 'utf8' },
      );
      expect(r.stdout).toMatch(/; core Haswell$/);
    },
  );
});
