import { recordThroughputRows, throughputRecords } from './throughput-records';
import type { EpochRecord } from './metric-history';

const epoch = (phase: string, samples: number, seconds: number): EpochRecord => ({
  phase,
  epoch: 0,
  loss: 1,
  accuracy: 0.5,
  lr: 0.001,
  steps: 4,
  samples,
  seconds,
});

const base = {
  jobId: 'j',
  workerKind: 'cpu/wasm',
  backboneId: 'mobilenet_v2',
  inputSize: 64,
  channels: 3,
  phases: [
    { name: 'head', backbone: 'frozen' as const },
    { name: 'finetune', backbone: 'trainable' as const },
  ],
  overheadUnits: 5,
};

describe('throughputRecords', () => {
  it('measures samples/s per phase kind, leaving out the run’s first epoch when the kind has others', () => {
    const rows = throughputRecords({
      ...base,
      history: [
        epoch('head', 100, 10),
        epoch('head', 100, 2),
        epoch('finetune', 100, 5),
        epoch('finetune', 100, 5),
      ],
      wallSeconds: 40,
    });
    expect(rows.map((r) => [r.phaseKind, r.samplesPerSec])).toEqual([
      ['frozen', 50],
      ['trainable', 20],
    ]);
    // Everything outside the epochs' steps (the slow first epoch's steps are still steps).
    for (const r of rows) expect(r.overheadSeconds).toBeCloseTo(40 - 22, 6);
  });

  it('keeps a single first epoch, and records nothing for a kind that never ran', () => {
    const rows = throughputRecords({ ...base, history: [epoch('head', 100, 4)], wallSeconds: 10 });
    expect(rows).toEqual([
      expect.objectContaining({ phaseKind: 'frozen', samplesPerSec: 25, overheadUnits: 5 }),
    ]);
  });
});

describe('recordThroughputRows', () => {
  it('records one row per fitted candidate: samples x epochs per second, and the time outside the fits', () => {
    const rows = recordThroughputRows({
      jobId: 'j',
      workerKind: 'cpu/js',
      task: 'text',
      size: 3,
      trainSamples: 100,
      fits: [
        { candidate: 'words/balanced', epochs: 4, cap: 8, seconds: 2 },
        { candidate: 'cnn/balanced', epochs: 2, seconds: 8 },
        { candidate: 'empty', epochs: 0, seconds: 0 },
      ],
      wallSeconds: 13,
    });
    expect(rows).toEqual([
      expect.objectContaining({
        backboneId: 'text:words/balanced',
        samplesPerSec: 200,
        inputSize: 3,
        channels: 0,
      }),
      expect.objectContaining({ backboneId: 'text:cnn/balanced', samplesPerSec: 25 }),
    ]);
    expect(rows.every((r) => r.overheadSeconds === 3 && r.overheadUnits === 1 && r.jobId === 'j')).toBe(true);
  });
});
