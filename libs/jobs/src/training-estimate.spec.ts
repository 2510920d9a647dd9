import {
  estimateTraining,
  FALLBACK_FROZEN_SPEEDUP,
  SETUP_SECONDS,
  type EstimateInput,
} from './training-estimate';

const base: EstimateInput = {
  backboneId: 'small_cnn_m',
  inputSize: 64,
  phases: [
    { name: 'warmup', epochs: 1, backbone: 'trainable' },
    { name: 'main', epochs: 3, backbone: 'trainable' },
  ],
  trainSamples: 1000,
  validationSamples: 100,
  testSamples: 100,
  budgetMinutes: 60,
  samples: [],
};

describe('estimateTraining', () => {
  it('uses the fallback table when nothing was measured (small_cnn_m at 64 px: 22 samples/s)', () => {
    const e = estimateTraining(base);
    expect(e.phases.map((p) => [p.source, p.samplesPerSec])).toEqual([
      ['table', 22],
      ['table', 22],
    ]);
    // 4 epochs of 1000 samples at 22/s; 4 epoch ends and 2 models, each 100 images at 3x that speed + 1 s.
    const unit = 100 / 66 + 1;
    expect(e.expectedSeconds).toBeCloseTo(SETUP_SECONDS + 4000 / 22 + 6 * unit, -1);
    expect(e.firstModelSeconds).toBeCloseTo(SETUP_SECONDS + 1000 / 22 + 2 * unit, -1);
    expect(e.computeMinutes).toBe(e.expectedMinutes);
    expect(e.limitedByBudget).toBe(false);
  });

  it('scales table speeds with the pixel count and speeds up frozen phases', () => {
    const e = estimateTraining({
      ...base,
      backboneId: 'mobilenet_v2',
      inputSize: 112,
      phases: [
        { name: 'head', epochs: 1, backbone: 'frozen' },
        { name: 'finetune', epochs: 1, backbone: 'trainable' },
      ],
    });
    expect(e.phases[1].samplesPerSec).toBeCloseTo(3.7 * 4, 1);
    expect(e.phases[0].samplesPerSec).toBeCloseTo(3.7 * 4 * FALLBACK_FROZEN_SPEEDUP, 1);
  });

  it('prefers measured samples at the same size (median), and scales from the nearest measured size', () => {
    const sample = (inputSize: number, samplesPerSec: number) => ({
      workerKind: 'cpu/wasm',
      inputSize,
      phaseKind: 'trainable',
      samplesPerSec,
      overheadSeconds: SETUP_SECONDS + 10,
      overheadUnits: 10,
    });
    const same = estimateTraining({ ...base, samples: [sample(64, 40), sample(64, 50), sample(64, 1000)] });
    expect(same.phases[0]).toMatchObject({ source: 'measured', samplesPerSec: 50, measurements: 3 });
    expect(same.overhead).toEqual({ secondsPerUnit: 1, source: 'measured' });
    const scaled = estimateTraining({ ...base, inputSize: 128, samples: [sample(64, 40)] });
    expect(scaled.phases[0].samplesPerSec).toBeCloseTo(10, 5);
  });

  it('stops at the budget: the job ends there and evaluates what it has', () => {
    const e = estimateTraining({ ...base, budgetMinutes: 1 });
    expect(e.limitedByBudget).toBe(true);
    expect(e.expectedSeconds).toBeGreaterThanOrEqual(60);
    expect(e.expectedSeconds).toBeLessThan(70);
    expect(e.firstModelSeconds).toBeLessThanOrEqual(e.expectedSeconds);
  });
});
