import { chooseBlasCore } from '../libs/ml/src/kernels/native-blas';

/**
 * Runs once in jest's parent process, before its workers start (they inherit its environment).
 * Tests that train in process load the native BLAS addon without going through a service's config,
 * so without this they would run whatever kernels OpenBLAS itself picks (Haswell on an AVX-512 machine
 * of this kind), not the SkylakeX kernels the worker and serving choose with ML_BLAS_CORE=auto: the
 * tests would check, and spend their time on, kernels the product does not run. An operator's own
 * OPENBLAS_CORETYPE is kept; without the addon this does nothing.
 */
export default function globalSetup(): void {
  if (process.env.OPENBLAS_CORETYPE) return;
  const choice = chooseBlasCore('auto');
  if (choice?.core) process.stderr.write(`[jest] native BLAS kernels: ${choice.core} (${choice.reason})\n`);
}
