import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { currentBackend, initBackend } from '.';
import { nativeBlas } from '../kernels/native-blas';
import { NO_OPENBLAS, openBlasPresent } from '../kernels/test-utils';
import { itIf } from '../../../../test/support/skip';

describe('initBackend', () => {
  it('falls back to wasm when the native backends are absent, logs the choice and registers the training kernels', async () => {
    const logs: string[] = [];
    const info = await initBackend({ log: (m) => logs.push(m) });
    // tfjs-node(-gpu) are optional dependencies that cannot install on this machine.
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.kernelsRegistered).toEqual(
      expect.arrayContaining([
        'Conv2DBackpropFilter',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
      ]),
    );
    expect(logs.join('\n')).toMatch(/using wasm/);
    expect(currentBackend()).toEqual(info);
  });

  it('is idempotent, including under concurrent calls', async () => {
    const all = await Promise.all([initBackend(), initBackend(), initBackend({ prefer: 'auto' })]);
    expect(new Set(all.map((i) => i.name))).toEqual(new Set(['wasm']));
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('honours an explicit preference and switches back', async () => {
    expect((await initBackend({ prefer: 'cpu' })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend({ prefer: 'wasm' })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('falls through an unavailable preference', async () => {
    const logs: string[] = [];
    const info = await initBackend({ prefer: 'tensorflow', log: (m) => logs.push(m) });
    expect(info.name).toBe('wasm');
    expect(logs.join('\n')).toMatch(/tensorflow unavailable/);
  });

  it(`reports the native BLAS addon exactly where it is built (here: ${openBlasPresent ? 'yes' : 'no'}), and none when turned off`, async () => {
    const logs: string[] = [];
    await initBackend({ prefer: 'cpu' });
    const off = await initBackend({ prefer: 'wasm', nativeBlas: false, log: (m) => logs.push(m) });
    expect(off.nativeBlas).toBeNull();
    expect(logs.join('\n')).toMatch(/native BLAS off/);
    const on = await initBackend({ prefer: 'wasm', nativeBlas: true });
    expect(on.nativeBlas !== null).toBe(openBlasPresent);
  });

  itIf(openBlasPresent, NO_OPENBLAS)(
    'turns the native BLAS addon off and on again when asked, without a backend switch',
    async () => {
      const wasm = () => tf.findBackend('wasm') as unknown as BackendWasm;
      await initBackend({ prefer: 'cpu' });
      expect((await initBackend({ prefer: 'wasm', nativeBlas: false })).nativeBlas).toBeNull();
      expect(nativeBlas(wasm())).toBeNull();
      // Already on wasm: the option still applies, without a backend switch.
      expect((await initBackend({ prefer: 'wasm', nativeBlas: true })).nativeBlas).not.toBeNull();
      expect(nativeBlas(wasm())).not.toBeNull();
      expect((await initBackend({ nativeBlas: false })).nativeBlas).toBeNull();
      expect(nativeBlas(wasm())).toBeNull();
      await initBackend({ nativeBlas: true });
    },
  );
});
