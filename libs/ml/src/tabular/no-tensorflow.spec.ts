import { modulesLoadedBy, tensorflowModules } from '../../../../test/support/loaded-modules';

describe('@modelsmith/ml/tabular', () => {
  // Serving predicts tabular models through this subpath: plain TypeScript, no TensorFlow.js.
  it('loads no TensorFlow.js module', async () => {
    const loaded = await modulesLoadedBy('libs/ml/src/tabular/index.ts');
    expect(loaded.some((file) => file.endsWith('tabular/gbdt.ts'))).toBe(true);
    expect(tensorflowModules(loaded)).toEqual([]);
  });
});
