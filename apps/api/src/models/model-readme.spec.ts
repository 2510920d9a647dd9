import { modelReadme } from './model-readme';

const manifest = (extra: Record<string, unknown> = {}) => ({
  format: 'modelsmith-model',
  task: 'image-classification',
  input: {
    kind: 'image',
    height: 224,
    width: 224,
    channels: 3,
    fit: 'cover',
    trainedFrom: { height: 64, width: 64 },
  },
  normalization: { kind: 'unit' },
  classNames: ['animals', 'food'],
  ...extra,
});

describe('modelReadme', () => {
  it('describes the preprocessing and, for a model with test-time views, the averaging', () => {
    const r = modelReadme('m', manifest({ tta: ['mirror', 'gray'] }));
    expect(r).toContain('0 `animals`, 1 `food`');
    expect(r).toContain('fit it to 64x64 (`cover`), then resize it bilinearly to 224x224');
    expect(r).toContain('v / 255');
    expect(r).toContain('`tta`: `mirror`, `gray`');
    expect(r).toContain('tf.reverse(x, 2)');
    expect(r).toContain('0.299 R + 0.587 G + 0.114 B');
  });

  it('a manifest without `tta` (every older one) reads the output as the probabilities', () => {
    const r = modelReadme('m', manifest());
    expect(r).toContain('`model.predict(x)`: its output is the class probabilities');
    expect(r).not.toContain('tta');
    expect(modelReadme('m', manifest({ tta: [] }))).not.toContain('averages at test time');
  });

  it('a model without an image input gets the header and classes only', () => {
    const r = modelReadme('t', {
      task: 'tabular-classification',
      input: { kind: 'tabular' },
      classNames: ['a', 'b'],
    });
    expect(r).toContain('0 `a`, 1 `b`');
    expect(r).not.toContain('## Input');
    expect(modelReadme('x', null)).toContain('# x');
  });
});
