import { modulesLoadedBy, tensorflowModules } from '../../../../test/support/loaded-modules';

describe('the API process', () => {
  // GET /v1/backbones reads the zoo's catalogue (@modelsmith/ml/catalogue), not the zoo itself.
  it('loads no TensorFlow.js module with its whole module graph (app.module)', async () => {
    const loaded = await modulesLoadedBy('apps/api/src/app.module.ts');
    expect(loaded.some((file) => file.endsWith('training/training-jobs.service.ts'))).toBe(true);
    expect(tensorflowModules(loaded)).toEqual([]);
  });
});
