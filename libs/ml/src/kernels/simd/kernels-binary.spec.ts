import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { assembleKernels, renderKernelsBinaryModule } from './assemble';
import { KERNELS_WASM_BASE64 } from './kernels-binary';

const watSource = (): string => readFileSync(join(__dirname, 'kernels.wat'), 'utf8');

describe('the committed SIMD kernel binary', () => {
  it('is kernels.wat assembled with wabt, byte for byte', async () => {
    const assembled = Buffer.from(await assembleKernels(watSource()));
    const committed = Buffer.from(KERNELS_WASM_BASE64, 'base64');
    // On failure: run `npm run build:wasm-kernels` and commit kernels-binary.ts with the .wat.
    expect(committed.length).toBe(assembled.length);
    expect(committed.equals(assembled)).toBe(true);
  });

  it('is the file the build script writes (so regenerating changes nothing)', async () => {
    const committed = readFileSync(join(__dirname, 'kernels-binary.ts'), 'utf8');
    expect(committed).toBe(renderKernelsBinaryModule(await assembleKernels(watSource())));
  });

  it('notices a change to the source (the comparison is not vacuous)', async () => {
    const source = watSource();
    const edited = source.replace(/\(f32\.const 0\)/, '(f32.const 1)');
    expect(edited).not.toBe(source);
    const assembled = Buffer.from(await assembleKernels(edited));
    expect(assembled.equals(Buffer.from(KERNELS_WASM_BASE64, 'base64'))).toBe(false);
  });

  it('rejects invalid source with an error instead of emitting a binary', async () => {
    await expect(assembleKernels('(module (func (i32.add)))')).rejects.toThrow();
  });
});
