import * as tf from '@tensorflow/tfjs';
import { currentBackend, initBackend } from '.';

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
});
