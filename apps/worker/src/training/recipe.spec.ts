import type { BackboneSpec } from '@modelsmith/ml';
import { buildRecipe, chooseBackbone, inputFor, type DatasetShape } from './recipe';

const spec = (over: Partial<BackboneSpec>): BackboneSpec => ({
  id: 'b',
  displayName: 'b',
  family: 'small_cnn',
  input: { height: 28, width: 28, channels: 1 },
  resizable: { minSize: 28, maxSize: 64, channels: [1, 3] },
  normalization: { kind: 'unit' },
  featureLayer: 'f',
  featureDim: 8,
  spatialFeatures: false,
  pretrained: false,
  source: { kind: 'builder', description: '' },
  license: { spdx: 'Apache-2.0', notes: '' },
  ...over,
});

const digits: DatasetShape = { height: 28, width: 28, channels: 1, numClasses: 10, trainSamples: 800 };

describe('recipe', () => {
  it('auto: pretrained MobileNetV2 for colour images at any size, the scratch CNN for small grayscale ones', () => {
    const rgb = (side: number): DatasetShape => ({ ...digits, channels: 3, height: side, width: side });
    expect(chooseBackbone(undefined, digits)).toBe('small_cnn_m');
    expect(chooseBackbone('auto', { ...digits, height: 64, width: 48 })).toBe('small_cnn_m');
    expect(chooseBackbone('auto', { ...digits, height: 65, width: 65 })).toBe('mobilenet_v2');
    for (const side of [28, 32, 64, 128, 224]) expect(chooseBackbone('auto', rgb(side))).toBe('mobilenet_v2');
    expect(chooseBackbone('inception_v3', digits)).toBe('inception_v3');
    expect(chooseBackbone('small_cnn_m', rgb(64))).toBe('small_cnn_m');
  });

  it('runs resizable backbones at the dataset resolution, within their limits', () => {
    expect(inputFor(spec({}), digits)).toEqual({ height: 28, width: 28, channels: 1 });
    const mnv2 = spec({
      input: { height: 224, width: 224, channels: 3 },
      resizable: { minSize: 32, maxSize: 512, channels: [3] },
    });
    expect(inputFor(mnv2, digits)).toEqual({ height: 32, width: 32, channels: 3 });
    expect(
      inputFor(spec({ resizable: undefined, input: { height: 299, width: 299, channels: 3 } }), digits),
    ).toEqual({ height: 299, width: 299, channels: 3 });
  });

  it('warms up a head on a frozen pretrained backbone, then fine-tunes at a lower backbone rate', () => {
    const r = buildRecipe(spec({ pretrained: true }), digits, 'balanced');
    expect(r.phases.map((p) => [p.name, p.backbone])).toEqual([
      ['head', 'frozen'],
      ['finetune', 'trainable'],
    ]);
    expect(r.phases[1].backboneLrScale).toBeLessThan(1);
    expect(r.phases[1].learningRate).toBeLessThan(r.phases[0].learningRate);
  });

  it('scales phases to a requested epoch count and drops empty phases', () => {
    const r = buildRecipe(spec({}), digits, 'best', { epochs: 10 });
    expect(r.phases.reduce((s, p) => s + p.epochs, 0)).toBe(10);
    const one = buildRecipe(spec({}), digits, 'fast', { epochs: 1 });
    expect(one.phases).toHaveLength(1);
    expect(one.phases[0].epochs).toBe(1);
  });

  it('can turn early stopping off', () => {
    expect(buildRecipe(spec({}), digits, 'fast').phases.some((p) => p.earlyStoppingPatience)).toBe(true);
    expect(
      buildRecipe(spec({}), digits, 'fast', { earlyStopping: false }).phases.some(
        (p) => p.earlyStoppingPatience,
      ),
    ).toBe(false);
  });

  it("augments lightly by default ('auto') except in fast mode; explicit levels are taken as asked", () => {
    expect(buildRecipe(spec({}), digits, 'balanced').augmentation).toBe('light');
    expect(buildRecipe(spec({}), digits, 'best', { augmentation: 'auto' }).augmentation).toBe('light');
    expect(buildRecipe(spec({}), digits, 'fast').augmentation).toBe('none');
    expect(buildRecipe(spec({}), digits, 'fast', { augmentation: 'light' }).augmentation).toBe('light');
    expect(buildRecipe(spec({}), digits, 'best', { augmentation: 'none' }).augmentation).toBe('none');
    for (const level of ['trivial', 'mixup', 'cutmix'] as const)
      expect(buildRecipe(spec({}), digits, 'fast', { augmentation: level }).augmentation).toBe(level);
  });

  it('more epochs for better modes', () => {
    const total = (m: 'fast' | 'balanced' | 'best') =>
      buildRecipe(spec({}), digits, m).phases.reduce((s, p) => s + p.epochs, 0);
    expect(total('fast')).toBeLessThan(total('balanced'));
    expect(total('balanced')).toBeLessThan(total('best'));
  });
});
