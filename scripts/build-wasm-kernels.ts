/**
 * Assembles libs/ml/src/kernels/simd/kernels.wat and writes the embedded binary module next to it
 * (kernels-binary.ts). Run after every change to the .wat:
 *
 *   npm run build:wasm-kernels
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { assembleKernels, renderKernelsBinaryModule } from '../libs/ml/src/kernels/simd/assemble';

const SIMD_DIR = join(__dirname, '..', 'libs', 'ml', 'src', 'kernels', 'simd');

async function main(): Promise<void> {
  const binary = await assembleKernels(readFileSync(join(SIMD_DIR, 'kernels.wat'), 'utf8'));
  const target = join(SIMD_DIR, 'kernels-binary.ts');
  const before = readFileSync(target, 'utf8');
  const after = renderKernelsBinaryModule(binary);
  writeFileSync(target, after);
  console.log(`${target}: ${binary.length} bytes, ${before === after ? 'unchanged' : 'rewritten'}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
