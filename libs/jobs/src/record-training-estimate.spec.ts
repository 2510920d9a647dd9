import {
  candidateSpeed,
  estimateRecordTraining,
  expectedEpochs,
  RECORD_FALLBACK_OVERHEAD_SECONDS,
  RECORD_FALLBACK_ROWS_PER_SEC,
  RECORD_FALLBACK_THROUGHPUT,
  type RecordEstimateInput,
  type RecordThroughputSample,
} from './record-training-estimate';

const sample = (o: Partial<RecordThroughputSample>): RecordThroughputSample => ({
  backboneId: 'tabular:gbdt',
  inputSize: 4,
  samplesPerSec: 1000,
  overheadSeconds: 2,
  overheadUnits: 1,
  jobId: 'j1',
  ...o,
});

const input = (o: Partial<RecordEstimateInput>): RecordEstimateInput => ({
  task: 'tabular',
  candidates: [{ name: 'gbdt', kind: 'gbdt', epochs: 1 }],
  size: 4,
  trainSamples: 1000,
  totalRows: 1400,
  budgetMinutes: 60,
  samples: [],
  ...o,
});

describe('estimateRecordTraining', () => {
  it('falls back to the documented table, scaled by the size feature, when nothing was measured', () => {
    const t = RECORD_FALLBACK_THROUGHPUT['tabular:gbdt'];
    const e = estimateRecordTraining(input({ size: t.size * 2 }));
    const fit = (1000 * 2) / t.samplesPerSec;
    const overhead = RECORD_FALLBACK_OVERHEAD_SECONDS + 1400 / RECORD_FALLBACK_ROWS_PER_SEC;
    expect(e.phases).toEqual([
      expect.objectContaining({ name: 'gbdt', source: 'table', measurements: 0, epochs: 1 }),
    ]);
    expect(e.phases[0].seconds).toBeCloseTo(fit, 1);
    expect(e.overhead.source).toBe('table');
    expect(e.expectedSeconds).toBe(Math.round(fit + overhead));
    expect(e.firstModelSeconds).toBe(e.expectedSeconds);
    expect(e.computeMinutes).toBe(e.expectedMinutes);
    expect(e.limitedByBudget).toBe(false);
  });

  it('uses the median measured speed of the candidate and the measured overhead per job', () => {
    const samples = [
      sample({ samplesPerSec: 100, overheadSeconds: 1, jobId: 'a' }),
      sample({ samplesPerSec: 200, overheadSeconds: 3, jobId: 'b' }),
      sample({ samplesPerSec: 400, overheadSeconds: 5, jobId: 'c' }),
      sample({ backboneId: 'tabular:linear', samplesPerSec: 1e6, overheadSeconds: 5, jobId: 'c' }),
    ];
    const e = estimateRecordTraining(input({ samples }));
    expect(e.phases[0]).toMatchObject({ source: 'measured', measurements: 3, samplesPerSec: 200 });
    // 1000 samples at 200/s, plus the median of the three jobs' overheads (3 s).
    expect(e.overhead).toEqual({ secondsPerUnit: 3, source: 'measured' });
    expect(e.expectedSeconds).toBe(8);
  });

  it('prices a sampled trial (measuredAs) at its measured base candidate, and counts it', () => {
    const samples = [sample({ samplesPerSec: 250, jobId: 'a' })];
    const e = estimateRecordTraining(
      input({
        samples,
        candidates: [
          { name: 'gbdt', kind: 'gbdt', epochs: 1 },
          { name: 'gbdt_search_1', kind: 'gbdt', epochs: 1, measuredAs: 'gbdt' },
        ],
      }),
    );
    expect(e.phases.map((p) => [p.name, p.source, p.samplesPerSec, p.seconds])).toEqual([
      ['gbdt', 'measured', 250, 4],
      ['gbdt_search_1', 'measured', 250, 4],
    ]);
    expect(e.expectedSeconds).toBe(4 + 4 + 2);
  });

  it('scales epochs and candidates linearly, and speed inversely with the size feature', () => {
    const samples = [
      sample({ backboneId: 'text:words/balanced', inputSize: 3, samplesPerSec: 3000 }),
      sample({ backboneId: 'text:cnn/balanced', inputSize: 3, samplesPerSec: 300 }),
    ];
    const candidates = [
      { name: 'words/balanced', kind: 'linear', epochs: 10 },
      { name: 'cnn/balanced', kind: 'cnn', epochs: 5 },
    ];
    const e = estimateRecordTraining(input({ task: 'text', candidates, size: 6, samples }));
    expect(e.phases.map((p) => p.samplesPerSec)).toEqual([1500, 150]);
    expect(e.phases[0].seconds).toBeCloseTo((1000 * 10) / 1500, 1);
    expect(e.phases[1].seconds).toBeCloseTo((1000 * 5) / 150, 1);
    // A candidate never measured here: the table for its kind.
    expect(
      candidateSpeed({ task: 'text', size: 4, samples }, { name: 'words+chars/none', kind: 'linear' }),
    ).toEqual({
      samplesPerSec: RECORD_FALLBACK_THROUGHPUT['text:linear'].samplesPerSec,
      source: 'table',
      measurements: 0,
    });
  });

  it('takes the nearest measured size', () => {
    const samples = [
      sample({ inputSize: 4, samplesPerSec: 800 }),
      sample({ inputSize: 40, samplesPerSec: 50 }),
    ];
    expect(
      candidateSpeed({ task: 'tabular', size: 32, samples }, { name: 'gbdt', kind: 'gbdt' }),
    ).toMatchObject({
      samplesPerSec: (50 * 40) / 32,
      measurements: 1,
    });
  });

  it('stops at the budget: the estimate is the budget plus the evaluation of the model kept', () => {
    const e = estimateRecordTraining(
      input({ trainSamples: 10_000_000, budgetMinutes: 1, samples: [sample({ overheadSeconds: 4 })] }),
    );
    expect(e.limitedByBudget).toBe(true);
    expect(e.expectedSeconds).toBe(64);
    expect(e.computeMinutes).toBe(1.1);
  });

  it('expects the epochs measured fits ran when they all stopped early, else the cap', () => {
    const key = 'text:cnn/balanced';
    const early = [
      sample({ backboneId: key, epochsRun: 3, epochsCap: 8 }),
      sample({ backboneId: key, epochsRun: 5, epochsCap: 8 }),
      sample({ backboneId: key, epochsRun: 4, epochsCap: 10 }),
    ];
    expect(expectedEpochs(early, key, 10)).toEqual({ epochs: 4, fromMeasurements: true });
    expect(expectedEpochs(early, key, 2)).toEqual({ epochs: 2, fromMeasurements: true });
    // One fit that ran to its cap: no evidence the candidate stops sooner.
    expect(
      expectedEpochs([...early, sample({ backboneId: key, epochsRun: 8, epochsCap: 8 })], key, 10),
    ).toEqual({
      epochs: 10,
      fromMeasurements: false,
    });
    // Rows without epochs (tabular, image) or of another candidate say nothing.
    expect(expectedEpochs([sample({ backboneId: key })], key, 10).epochs).toBe(10);
    expect(expectedEpochs(early, 'text:words/none', 10).epochs).toBe(10);
    const e = estimateRecordTraining(
      input({
        task: 'text',
        candidates: [{ name: 'cnn/balanced', kind: 'cnn', epochs: 10 }],
        samples: early.map((s) => ({ ...s, samplesPerSec: 400 })),
      }),
    );
    expect(e.phases[0]).toMatchObject({ epochs: 4, seconds: 10 });
  });
});
