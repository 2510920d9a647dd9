import { builtinBackbones, DEFAULT_NAS_ARCH, sampleAt } from '@modelsmith/ml';
import type { DatasetShape } from '../recipe';
import {
  configFromParams,
  firstConfig,
  firstEpochs,
  firstInputSize,
  FIRST_UPSCALE_SIDE,
  FIRST_HEAD_EPOCHS,
  FIRST_HEAD_LEARNING_RATE,
  HEAD_ONLY_TRAINING,
  promotedConfig,
  recipeSearchSpace,
  searchBackbones,
  trialRecipe,
  viewsHeadConfig,
} from './recipe-space';
import {
  estimateSeconds,
  evolutionHistory,
  leaderboard,
  meetsConstraints,
  trialFront,
  type LedgerTrial,
} from './search-runner';

const specs = builtinBackbones();
const spec = (id: string) => specs.find((s) => s.id === id)!;
const digits: DatasetShape = { height: 28, width: 28, channels: 1, numClasses: 10, trainSamples: 1200 };
const photos: DatasetShape = { height: 64, width: 64, channels: 3, numClasses: 6, trainSamples: 220 };

describe('recipe search space', () => {
  it('searches the scratch CNNs, the searched nas_cnn and pretrained MobileNetV2, or only the backbone the job fixed', () => {
    expect(searchBackbones(undefined, specs, photos)).toEqual([
      'small_cnn_xs',
      'small_cnn_s',
      'small_cnn_m',
      'nas_cnn',
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
      // Scratch backbones scale the data's 64 px; the pretrained one scales it upscaled to 128 px.
      expect(s.pretrained ? [96, 128, 192] : [48, 64, 96]).toContain(c.inputSize);
      // Only a pretrained backbone gets the transfer regularizer.
      if (!s.pretrained) expect(c.regularizer).toBe('none');
      const r = trialRecipe(s, photos, c, 3, {});
      expect(r.input).toEqual({ height: c.inputSize, width: c.inputSize, channels: 3 });
      expect(r.phases.reduce((n, ph) => n + ph.epochs, 0)).toBe(3);
      // A pretrained backbone's head phase trains on its cached features.
      expect(r.headOnFeatures).toBe(s.pretrained ? true : undefined);
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

  it('a nas_cnn configuration carries its architecture into the recipe; other backbones ignore it', () => {
    const p = sampleAt(recipeSearchSpace(['nas_cnn']), 3, 0);
    const c = configFromParams(p, spec('nas_cnn'), digits, 's8-c16x1-m24x2e2');
    expect(c.arch).toBe('s8-c16x1-m24x2e2');
    expect(trialRecipe(spec('nas_cnn'), digits, c, 2, {}).arch).toBe('s8-c16x1-m24x2e2');
    expect(configFromParams(p, spec('small_cnn_s'), digits, 's8-c16x1-m24x2e2').arch).toBeUndefined();
    expect(firstConfig(spec('nas_cnn'), digits, {}).arch).toBe(DEFAULT_NAS_ARCH);
  });

  it("starts from the default recipe's choices without augmentation", () => {
    const c = firstConfig(spec('small_cnn_m'), digits, {});
    expect(c).toMatchObject({ backbone: 'small_cnn_m', inputSize: 28, learningRate: 1e-3, weightDecay: 0 });
    expect(c.augmentation).toBe('none');
    expect(c.batchSize).toBe(64);
    expect(c.headOnly).toBeUndefined();
    expect(firstEpochs(c, 1)).toBe(1);
  });

  it('with a pretrained backbone, first trains only a head on the frozen backbone, small data upscaled to FIRST_UPSCALE_SIDE', () => {
    const c = firstConfig(spec('mobilenet_v2'), photos, {});
    // 64 px photos run MobileNetV2 at 160 px (frozen features there validated best, FIRST_UPSCALE_SIDE).
    expect(FIRST_UPSCALE_SIDE).toBe(160);
    expect(c).toMatchObject({ headOnly: true, learningRate: FIRST_HEAD_LEARNING_RATE, inputSize: 160 });
    expect(firstInputSize(spec('mobilenet_v2'), photos)).toBe(160);
    // Data the search already runs above it (128 px uploads: 224 px) keeps that side.
    expect(firstInputSize(spec('mobilenet_v2'), { ...photos, height: 128, width: 128 })).toBe(224);
    expect(firstInputSize(spec('mobilenet_v2'), { ...photos, height: 300, width: 300 })).toBe(300);
    expect(firstInputSize(spec('mobilenet_v2'), { ...photos, height: 900, width: 900 })).toBe(512);
    // Scratch backbones keep the data's resolution.
    expect(firstInputSize(spec('small_cnn_m'), photos)).toBe(64);
    expect(firstEpochs(c, 1)).toBe(FIRST_HEAD_EPOCHS);
    expect(firstConfig(spec('mobilenet_v2'), photos, { learningRate: 1e-4 }).learningRate).toBe(1e-4);
    const r = trialRecipe(spec('mobilenet_v2'), photos, c, FIRST_HEAD_EPOCHS, {});
    expect(r.phases).toEqual([
      expect.objectContaining({ name: 'head', epochs: FIRST_HEAD_EPOCHS, backbone: 'frozen' }),
    ]);
    expect(r.phases[0].learningRate).toBeCloseTo(FIRST_HEAD_LEARNING_RATE, 10);
    expect(r.headOnFeatures).toBe(true);
    // The first model early: its head trains on each image once, not on every view.
    expect(r.headImagesOnly).toBe(true);
    // ... for a fixed 40 epochs without label smoothing or dropout (no early stopping on the small
    // validation split); a label smoothing the job sets is kept.
    expect(HEAD_ONLY_TRAINING).toEqual({ epochs: 40, labelSmoothing: 0, dropout: 0 });
    expect(r).toMatchObject({ featureHeadEpochs: 40, headDropout: 0, labelSmoothing: 0 });
    expect(trialRecipe(spec('mobilenet_v2'), photos, c, 3, { labelSmoothing: 0.1 }).labelSmoothing).toBe(0.1);
    // ... and reads MobileNetV2's multi-layer features (the promoted recipe its last layer's).
    expect(r.headFeatures).toBe('multi');
    expect(r.input).toEqual({ height: 160, width: 160, channels: 3 });
    // Promoted, the first configuration fine-tunes after the head, at 160 px, with light augmentation
    // unless the job fixed an augmentation.
    const promoted = promotedConfig(c, {});
    expect(promoted).toMatchObject({ inputSize: 160, augmentation: 'light' });
    expect(promoted.headOnly).toBeUndefined();
    expect(promotedConfig(c, { augmentation: 'none' }).augmentation).toBe('none');
    expect(promotedConfig(c, { augmentation: 'randaugment' }).augmentation).toBe('randaugment');
    const full = trialRecipe(spec('mobilenet_v2'), photos, promoted, 9, {});
    expect(full.phases.map((p) => p.name)).toEqual(['head', 'finetune']);
    expect(full.headImagesOnly).toBeUndefined();
    expect(full.featureHeadEpochs).toBeUndefined();
    expect(full.headDropout).toBeUndefined();
    expect(full.labelSmoothing).toBe(0.05);
    expect(full.headFeatures).toBeUndefined();
    expect(full.augmentation).toBe('light');
    // The second trial: the same head on the train split's image + mirror + gray views (not only the
    // image), the same multi-layer features and input; promoted it would be the first trial's.
    const views = viewsHeadConfig(c);
    expect(views).toMatchObject({ headOnly: true, headViews: true, inputSize: 160 });
    const rv = trialRecipe(spec('mobilenet_v2'), photos, views, FIRST_HEAD_EPOCHS, {});
    expect(rv.headImagesOnly).toBeUndefined();
    expect(rv.headOnFeatures).toBe(true);
    expect(rv.headFeatures).toBe('multi');
    expect(rv.phases).toEqual(r.phases);
    expect(rv).toMatchObject({ featureHeadEpochs: 40, headDropout: 0, labelSmoothing: 0 });
    expect(promotedConfig(views, {})).toEqual(promoted);
    // Other configurations are promoted as they are.
    const other = configFromParams(
      sampleAt(recipeSearchSpace(['small_cnn_s']), 3, 0),
      spec('small_cnn_s'),
      photos,
    );
    expect(promotedConfig(other, {})).toBe(other);
  });
});

describe('search bookkeeping', () => {
  const trial = (index: number, over: Partial<LedgerTrial>): LedgerTrial => ({
    index,
    status: 'SUCCEEDED',
    params: { config: index, rung: 0, epochs: 1, backbone: 'small_cnn_s', inputSize: 32 },
    metrics: { validationAccuracy: 0.5, epochs: 1 },
    costSeconds: 10,
    artifactPrefix: `p${index}/`,
    ...over,
  });

  it('extrapolates a trial cost from finished trials of the same backbone by epochs and pixels', () => {
    const done = [trial(0, {}), trial(1, { costSeconds: 30 }), trial(2, { costSeconds: 20 })];
    const c = firstConfig(spec('small_cnn_s'), digits, {});
    // Median 20 s per epoch at 32 px -> 3 epochs at 64 px = 20 * 3 * 4.
    expect(estimateSeconds(done, { ...c, inputSize: 64 }, 3)).toBeCloseTo(240, 6);
    // Another backbone: scaled by the relative cost of the fallback table (search-runner.spec.ts).
    expect(estimateSeconds(done, { ...c, backbone: 'mobilenet_v2' }, 3)).toBeGreaterThan(0);
    expect(estimateSeconds([], c, 3)).toBeUndefined();
  });

  it("counts a head-only trial as a third of an epoch and a pretrained trial's cheap feature-head epochs as planned", () => {
    // A first configuration at 224 px (as for data the search runs there).
    const c = { ...firstConfig(spec('mobilenet_v2'), photos, {}), inputSize: 224 };
    const headOnly = trial(0, {
      params: { config: 0, rung: 0, epochs: 3, backbone: 'mobilenet_v2', inputSize: 224, headOnly: true },
      metrics: { validationAccuracy: 0.8, epochs: 40 },
      costSeconds: 30,
    });
    // 30 s for one forward pass = a third of an epoch at 224 px -> 3 epochs at 224 px = 30 * 3 * 3.
    expect(estimateSeconds([headOnly], { ...c, headOnly: undefined }, 3)).toBeCloseTo(270, 6);
    const promoted = trial(1, {
      params: { config: 0, rung: 1, epochs: 3, backbone: 'mobilenet_v2', inputSize: 224 },
      // 40 head epochs on features + 2 fine-tune epochs recorded; 3 planned.
      metrics: { validationAccuracy: 0.8, epochs: 42 },
      costSeconds: 120,
    });
    expect(estimateSeconds([promoted], { ...c, headOnly: undefined }, 3)).toBeCloseTo(120, 6);
  });

  it('breaks leaderboard ties like the choice of the model: the higher rung, then the earlier trial', () => {
    const board = leaderboard([
      trial(0, { metrics: { validationAccuracy: 0.7 } }),
      trial(1, { metrics: { validationAccuracy: 0.7 } }),
      trial(2, {
        params: { config: 0, rung: 1, epochs: 3, backbone: 'small_cnn_s', inputSize: 32 },
        metrics: { validationAccuracy: 0.7 },
      }),
    ]);
    expect(board.map((b) => b.trial)).toEqual([2, 0, 1]);
  });

  it('ranks the leaderboard by validation accuracy, failed trials last', () => {
    const board = leaderboard([
      trial(0, { metrics: { validationAccuracy: 0.6, epochs: 1 } }),
      trial(1, { status: 'FAILED', metrics: { error: 'x' }, artifactPrefix: null }),
      trial(2, { metrics: { validationAccuracy: 0.8, epochs: 3 } }),
      trial(3, { status: 'RUNNING' }),
    ]);
    expect(board.map((b) => [b.trial, b.validationAccuracy])).toEqual([
      [2, 0.8],
      [0, 0.6],
      [1, null],
    ]);
  });

  const costed = (
    index: number,
    acc: number,
    latencyMs: number,
    modelMB: number,
    over: Partial<LedgerTrial> = {},
  ) =>
    trial(index, {
      metrics: { validationAccuracy: acc, latencyMs, modelMB, params: 1000, epochs: 1 },
      ...over,
    });

  it('constraints: a trial over a limit is infeasible, listed after the feasible ones; unmeasured is not held to it', () => {
    const c = { maxLatencyMs: 2, maxModelMB: 1 };
    expect(meetsConstraints(costed(0, 0.9, 1.5, 0.5), c)).toBe(true);
    expect(meetsConstraints(costed(0, 0.9, 2.5, 0.5), c)).toBe(false);
    expect(meetsConstraints(costed(0, 0.9, 1.5, 1.5), c)).toBe(false);
    expect(meetsConstraints(trial(0, {}), c)).toBe(true);
    expect(meetsConstraints(costed(0, 0.9, 9, 9), undefined)).toBe(true);
    const board = leaderboard([costed(0, 0.9, 3, 0.5), costed(1, 0.7, 1, 0.5)], 20, c);
    expect(board.map((b) => [b.trial, b.feasible])).toEqual([
      [1, true],
      [0, false],
    ]);
  });

  it('the Pareto front orders by CPU ms per image when every trial has it (wall ms shown), else by wall ms', () => {
    const cpu = (index: number, acc: number, wallMs: number, cpuMs: number) =>
      trial(index, {
        metrics: { validationAccuracy: acc, latencyMs: wallMs, cpuMsPerImage: cpuMs, modelMB: 1, params: 1 },
      });
    // Trial 1's wall figure is inflated by load: by CPU it is cheaper than 0, so both are on the front.
    const trials = [cpu(0, 0.9, 2, 3), cpu(1, 0.8, 40, 1), cpu(2, 0.7, 1, 5)];
    expect(trialFront(trials).map((f) => [f.trial, f.latencyMs, f.cpuMsPerImage])).toEqual([
      [0, 2, 3],
      [1, 40, 1],
    ]);
    // A trial without the CPU figure (recorded before it was measured): all ranked by wall ms.
    const old = costed(3, 0.6, 0.5, 1);
    expect(trialFront([...trials, old]).map((f) => f.trial)).toEqual([0, 2, 3]);
  });

  it('the Pareto front of accuracy, latency and size', () => {
    const trials = [
      costed(0, 0.9, 5, 2),
      costed(1, 0.8, 1, 0.5),
      costed(2, 0.85, 6, 3), // dominated by 0
      costed(3, 0.7, 2, 0.1), // smallest
      trial(4, { status: 'FAILED', metrics: { error: 'x' } }),
      trial(5, { metrics: { validationAccuracy: 0.99 } }), // not measured: not on the front
    ];
    const front = trialFront(trials, { maxModelMB: 1 });
    expect(front.map((f) => [f.trial, f.feasible])).toEqual([
      [0, false],
      [1, true],
      [3, true],
    ]);
  });

  it('evolution history: one member per nas_cnn configuration (its highest rung), oldest first, cost-aware fitness', () => {
    const nas = (index: number, config: number, rung: number, acc: number | null) =>
      trial(index, {
        params: {
          config,
          rung,
          epochs: 1,
          backbone: 'nas_cnn',
          inputSize: 28,
          arch: `s8-c8x1-c${8 + config * 4}x1`,
        },
        ...(acc === null
          ? { status: 'FAILED', metrics: { error: 'x' } }
          : { metrics: { validationAccuracy: acc, macs: 1e7, latencyMs: 1, modelMB: 0.1 } }),
      });
    const h = evolutionHistory([nas(0, 0, 0, 0.5), trial(1, {}), nas(2, 1, 0, null), nas(3, 0, 1, 0.7)]);
    expect(h.map((m) => [m.id, m.arch])).toEqual([
      [0, 's8-c8x1-c8x1'],
      [1, 's8-c8x1-c12x1'],
    ]);
    expect(h[0].fitness).toBeCloseTo(0.7 - 0.02, 9);
    expect(h[1].fitness).toBeNull();
    expect(evolutionHistory([nas(0, 0, 0, 0.5)], { maxModelMB: 0.01 })[0].fitness).toBe(-Infinity);
  });
});
