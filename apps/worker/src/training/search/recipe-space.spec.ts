import { builtinBackbones, sampleAt } from '@modelsmith/ml';
import type { DatasetShape } from '../recipe';
import {
  configFromParams,
  firstConfig,
  recipeSearchSpace,
  searchBackbones,
  trialRecipe,
} from './recipe-space';
import { estimateSeconds, leaderboard, type LedgerTrial } from './search-runner';

const specs = builtinBackbones();
const spec = (id: string) => specs.find((s) => s.id === id)!;
const digits: DatasetShape = { height: 28, width: 28, channels: 1, numClasses: 10, trainSamples: 1200 };
const photos: DatasetShape = { height: 64, width: 64, channels: 3, numClasses: 6, trainSamples: 220 };

describe('recipe search space', () => {
  it('searches the scratch CNNs and pretrained MobileNetV2, or only the backbone the job fixed', () => {
    expect(searchBackbones(undefined, specs, photos)).toEqual([
      'small_cnn_xs',
      'small_cnn_s',
      'small_cnn_m',
      'mobilenet_v2',
    ]);
    expect(searchBackbones('auto', specs, digits)).toContain('mobilenet_v2');
    expect(searchBackbones('small_cnn_s', specs, photos)).toEqual(['small_cnn_s']);
  });

  it('turns sampled params into a configuration within what the backbone accepts', () => {
    const space = recipeSearchSpace(['small_cnn_m', 'mobilenet_v2']);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const p = sampleAt(space, 3, i);
      const s = spec(String(p.backbone));
      const c = configFromParams(p, s, photos);
      expect(c.inputSize).toBeGreaterThanOrEqual(s.resizable!.minSize);
      expect(c.inputSize).toBeLessThanOrEqual(s.resizable!.maxSize);
      expect([48, 64, 96]).toContain(c.inputSize);
      // Only a pretrained backbone gets the transfer regularizer.
      if (!s.pretrained) expect(c.regularizer).toBe('none');
      const r = trialRecipe(s, photos, c, 3, {});
      expect(r.input).toEqual({ height: c.inputSize, width: c.inputSize, channels: 3 });
      expect(r.phases.reduce((n, ph) => n + ph.epochs, 0)).toBe(3);
      expect(r.batchSize).toBe(c.batchSize);
      expect(r.phases[0].learningRate).toBeCloseTo(c.learningRate, 12);
      expect(r.weightDecay ?? 0).toBe(c.weightDecay);
      expect(r.augmentation).toBe(c.augmentation);
      const alpha =
        r.regularizer?.type === 'l2sp' || r.regularizer?.type === 'delta' ? r.regularizer.alpha : undefined;
      // DELTA takes a tenth of the sampled strength (its default 0.01 against L2-SP's 0.1).
      const expected =
        c.regularizer === 'l2sp'
          ? c.regularizerAlpha
          : c.regularizer === 'delta'
            ? c.regularizerAlpha / 10
            : undefined;
      expect(alpha).toBe(expected);
      seen.add(c.regularizer).add(c.augmentation);
    }
    // The search can pick DELTA and RandAugment.
    expect([...seen]).toEqual(expect.arrayContaining(['delta', 'l2sp', 'randaugment', 'light']));
  });

  it("starts from the default recipe's choices without augmentation", () => {
    const c = firstConfig(spec('small_cnn_m'), digits, {});
    expect(c).toMatchObject({ backbone: 'small_cnn_m', inputSize: 28, learningRate: 1e-3, weightDecay: 0 });
    expect(c.augmentation).toBe('none');
    expect(c.batchSize).toBe(64);
  });
});

describe('search bookkeeping', () => {
  const trial = (index: number, over: Partial<LedgerTrial>): LedgerTrial => ({
    index,
    status: 'SUCCEEDED',
    params: { config: index, rung: 0, epochs: 1, backbone: 'small_cnn_s', inputSize: 32 },
    metrics: { valAccuracy: 0.5, epochs: 1 },
    costSeconds: 10,
    artifactPrefix: `p${index}/`,
    ...over,
  });

  it('extrapolates a trial cost from finished trials of the same backbone by epochs and pixels', () => {
    const done = [trial(0, {}), trial(1, { costSeconds: 30 }), trial(2, { costSeconds: 20 })];
    const c = firstConfig(spec('small_cnn_s'), digits, {});
    // Median 20 s per epoch at 32 px -> 3 epochs at 64 px = 20 * 3 * 4.
    expect(estimateSeconds(done, { ...c, inputSize: 64 }, 3)).toBeCloseTo(240, 6);
    expect(estimateSeconds(done, { ...c, backbone: 'mobilenet_v2' }, 3)).toBeUndefined();
  });

  it('ranks the leaderboard by validation accuracy, failed trials last', () => {
    const board = leaderboard([
      trial(0, { metrics: { valAccuracy: 0.6, epochs: 1 } }),
      trial(1, { status: 'FAILED', metrics: { error: 'x' }, artifactPrefix: null }),
      trial(2, { metrics: { valAccuracy: 0.8, epochs: 3 } }),
      trial(3, { status: 'RUNNING' }),
    ]);
    expect(board.map((b) => [b.trial, b.valAccuracy])).toEqual([
      [2, 0.8],
      [0, 0.6],
      [1, null],
    ]);
  });
});
