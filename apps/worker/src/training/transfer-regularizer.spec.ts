import { trainInputs } from '@modelsmith/contracts';
import { ModelZoo, type BackboneSpec } from '@modelsmith/ml';
import { buildRecipe, type DatasetShape } from './recipe';
import { transferRegularizerFor } from './transfer-regularizer';

const base = new ModelZoo().get('small_cnn_xs');
const pretrained: BackboneSpec = { ...base, pretrained: true };
const scratch: BackboneSpec = { ...base, pretrained: false };
const shape: DatasetShape = { height: 28, width: 28, channels: 1, numClasses: 3, trainSamples: 300 };
const DATASET = 'cm0000000000000000000000a';

describe('transfer regularizer choice', () => {
  it("gives L2-SP with Li et al.'s defaults for 'l2sp' and 'auto' on a pretrained backbone", () => {
    const expected = { type: 'l2sp', alpha: 0.1, beta: 0.01, conflictRule: false };
    expect(transferRegularizerFor(pretrained, { regularizer: 'l2sp' })).toEqual(expected);
    expect(transferRegularizerFor(pretrained, { regularizer: 'auto' })).toEqual(expected);
    expect(
      transferRegularizerFor(pretrained, { regularizer: 'l2sp', alpha: 0.01, beta: 0.5, conflictRule: true }),
    ).toEqual({ type: 'l2sp', alpha: 0.01, beta: 0.5, conflictRule: true });
  });

  it("gives BSS and RIFLE with their papers' defaults, or the values the job sets", () => {
    expect(transferRegularizerFor(pretrained, { regularizer: 'bss' })).toEqual({
      type: 'bss',
      eta: 0.001,
      k: 1,
    });
    expect(transferRegularizerFor(pretrained, { regularizer: 'bss', eta: 0.01, k: 2 })).toEqual({
      type: 'bss',
      eta: 0.01,
      k: 2,
    });
    expect(transferRegularizerFor(pretrained, { regularizer: 'rifle' })).toEqual({ type: 'rifle', times: 3 });
    expect(transferRegularizerFor(pretrained, { regularizer: 'rifle', reinitTimes: 1 })).toEqual({
      type: 'rifle',
      times: 1,
    });
    expect(transferRegularizerFor(scratch, { regularizer: 'rifle' })).toBeUndefined();
  });

  it("gives DELTA with the paper's defaults (alpha 0.01, beta 0.01), or the job's values", () => {
    expect(transferRegularizerFor(pretrained, { regularizer: 'delta' })).toEqual({
      type: 'delta',
      alpha: 0.01,
      beta: 0.01,
    });
    expect(transferRegularizerFor(pretrained, { regularizer: 'delta', alpha: 0.1, beta: 0 })).toEqual({
      type: 'delta',
      alpha: 0.1,
      beta: 0,
    });
    expect(transferRegularizerFor(scratch, { regularizer: 'delta' })).toBeUndefined();
  });

  it("gives none by default, for 'none', and on a scratch backbone whatever the job asks", () => {
    expect(transferRegularizerFor(pretrained, undefined)).toBeUndefined();
    expect(transferRegularizerFor(pretrained, {})).toBeUndefined();
    expect(transferRegularizerFor(pretrained, { regularizer: 'none' })).toBeUndefined();
    expect(transferRegularizerFor(scratch, { regularizer: 'l2sp' })).toBeUndefined();
  });

  it("a job's options.transfer, parsed as the worker parses inputs, reaches the recipe", () => {
    const inputs = trainInputs.parse({
      datasetVersionId: DATASET,
      options: { transfer: { regularizer: 'l2sp', alpha: 0.05, conflictRule: true } },
    });
    expect(buildRecipe(pretrained, shape, inputs.mode, inputs.options).regularizer).toEqual({
      type: 'l2sp',
      alpha: 0.05,
      beta: 0.01,
      conflictRule: true,
    });
    expect(buildRecipe(scratch, shape, inputs.mode, inputs.options).regularizer).toBeUndefined();
    const plain = trainInputs.parse({ datasetVersionId: DATASET });
    expect(buildRecipe(pretrained, shape, plain.mode, plain.options).regularizer).toBeUndefined();
  });

  it('rejects unknown regularizers and out-of-range strengths', () => {
    const parse = (transfer: unknown) =>
      trainInputs.safeParse({ datasetVersionId: DATASET, options: { transfer } }).success;
    expect(parse({ regularizer: 'l2sp', alpha: 10, beta: 0 })).toBe(true);
    expect(parse({ regularizer: 'bss', eta: 0.01, k: 3 })).toBe(true);
    expect(parse({ regularizer: 'rifle', reinitTimes: 2 })).toBe(true);
    expect(parse({ regularizer: 'delta' })).toBe(true);
    expect(parse({ regularizer: 'fancy' })).toBe(false);
    expect(parse({ k: 0 })).toBe(false);
    expect(parse({ reinitTimes: 1.5 })).toBe(false);
    expect(parse({ alpha: 10.5 })).toBe(false);
    expect(parse({ beta: -0.1 })).toBe(false);
    expect(parse({ conflictRule: 'yes' })).toBe(false);
  });
});
