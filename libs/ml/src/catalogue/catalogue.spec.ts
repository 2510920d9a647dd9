import { modulesLoadedBy, tensorflowModules } from '../../../../test/support/loaded-modules';
import { ModelZoo } from '../zoo/model-zoo';
import { builtinBackbones } from './index';

describe('backbone catalogue', () => {
  it('loads no TensorFlow.js module when required, where the zoo does', async () => {
    const [catalogue, zoo] = await Promise.all([
      modulesLoadedBy('libs/ml/src/catalogue/index.ts'),
      modulesLoadedBy('libs/ml/src/zoo/model-zoo.ts'),
    ]);
    expect(catalogue.some((file) => file.endsWith('catalogue/builtin-backbones.ts'))).toBe(true);
    expect(tensorflowModules(catalogue)).toEqual([]);
    // The probe can see TensorFlow.js: the zoo, which builds models, loads it.
    expect(tensorflowModules(zoo).length).toBeGreaterThan(0);
  });

  it('is what the zoo lists: one source of truth', () => {
    expect(new ModelZoo().list()).toEqual(builtinBackbones());
  });

  it('hands out fresh objects, so a caller cannot alter the next answer', () => {
    const first = builtinBackbones();
    first[0].featureDim = -1;
    first[0].input.height = -1;
    const second = builtinBackbones();
    expect(second[0].featureDim).toBeGreaterThan(0);
    expect(second[0].input.height).toBeGreaterThan(0);
  });
});
