import {
  JOBS,
  JOB_KINDS,
  bullJobName,
  definitionForBullName,
  definitionForKind,
  validatePayload,
  InvalidJobPayloadError,
  InvalidJobInputsError,
  parseJobInputs,
  parseRowInputs,
} from './queues';
import { scopeSatisfies } from './scopes';

describe('job definitions', () => {
  it('have unique names and kinds', () => {
    const defs = Object.values(JOBS);
    expect(new Set(defs.map(bullJobName)).size).toBe(defs.length);
    expect(new Set(defs.map((d) => d.kind)).size).toBe(defs.length);
  });

  it('round-trip through their lookup tables', () => {
    for (const def of Object.values(JOBS)) {
      expect(definitionForBullName(bullJobName(def))).toBe(def);
      expect(definitionForKind(def.kind)).toBe(def);
    }
    expect(definitionForBullName('nope@v1')).toBeUndefined();
  });

  it('accept ids-only payloads and reject data-carrying or malformed ones', () => {
    expect(validatePayload(JOBS.noop, { tenantId: 't1', jobId: 'j1' })).toEqual({
      tenantId: 't1',
      jobId: 'j1',
    });
    expect(() => validatePayload(JOBS.noop, { tenantId: 't1' })).toThrow(InvalidJobPayloadError);
    expect(() => validatePayload(JOBS.noop, { tenantId: 't', jobId: 'j'.repeat(65) })).toThrow(/jobId/);
  });
});

describe('scopeSatisfies', () => {
  it('lets admin do anything and read follow train/predict', () => {
    expect(scopeSatisfies(['ADMIN'], 'TRAIN')).toBe(true);
    expect(scopeSatisfies(['PREDICT'], 'READ')).toBe(true);
    expect(scopeSatisfies(['PREDICT'], 'TRAIN')).toBe(false);
    expect(scopeSatisfies(['READ'], 'PREDICT')).toBe(false);
  });
});

describe('job inputs', () => {
  it('every definition has an inputs schema that accepts what its submitter sends', () => {
    expect(parseJobInputs(JOBS.noop, {})).toEqual({});
    expect(parseJobInputs(JOBS.noop, { options: { durationMs: 10, accelerator: 'cpu' } })).toEqual({
      options: { durationMs: 10, accelerator: 'cpu' },
    });
    expect(parseJobInputs(JOBS.ingestDataset, { datasetVersionId: 'v1' })).toEqual({
      datasetVersionId: 'v1',
    });
    expect(parseJobInputs(JOBS.train, { datasetVersionId: 'v1' })).toEqual({
      datasetVersionId: 'v1',
      mode: 'auto',
      budget: { maxMinutes: 60 },
      options: {},
    });
    // Rows written before 'auto' existed keep their mode and trial cap.
    expect(
      parseJobInputs(JOBS.train, {
        datasetVersionId: 'v1',
        mode: 'balanced',
        budget: { maxMinutes: 5, maxTrials: 1 },
      }),
    ).toMatchObject({ mode: 'balanced', budget: { maxMinutes: 5, maxTrials: 1 } });
    expect(
      parseJobInputs(JOBS.batchPredict, {
        modelId: 'm1',
        options: { inputKey: 'k', inputName: 'a.zip', inputSize: 3 },
      }),
    ).toEqual({
      modelId: 'm1',
      options: { inputKey: 'k', inputName: 'a.zip', inputSize: 3, format: 'jsonl', topK: 3 },
    });
  });

  it('refuses inputs a job cannot run with, naming the field', () => {
    expect(() => parseJobInputs(JOBS.train, {})).toThrow(/datasetVersionId/);
    expect(() => parseJobInputs(JOBS.train, { datasetVersionId: 'v', mode: 'slow' })).toThrow(
      InvalidJobInputsError,
    );
    expect(() => parseJobInputs(JOBS.train, { datasetVersionId: 'v', options: { epochs: 0 } })).toThrow(
      /options\.epochs/,
    );
    expect(() =>
      parseJobInputs(JOBS.train, { datasetVersionId: 'v', options: { augmentation: 'heavy' } }),
    ).toThrow(/options\.augmentation/);
    expect(
      parseJobInputs(JOBS.train, { datasetVersionId: 'v', options: { augmentation: 'none' } }),
    ).toMatchObject({ options: { augmentation: 'none' } });
    expect(() => parseJobInputs(JOBS.noop, { options: { durationMs: 600_001 } })).toThrow(/durationMs/);
    expect(() =>
      parseJobInputs(JOBS.batchPredict, {
        modelId: 'm',
        options: { inputKey: 'k', inputName: 'a', inputSize: 1, format: 'xml' },
      }),
    ).toThrow(/format/);
  });

  it('reads a row: NULL columns are absent', () => {
    const row = {
      datasetVersionId: 'v1',
      modelId: null,
      mode: 'fast',
      budget: { maxMinutes: 5, maxTrials: 2 },
      options: null,
    };
    expect(parseRowInputs(JOBS.train, row)).toEqual({
      datasetVersionId: 'v1',
      mode: 'fast',
      budget: { maxMinutes: 5, maxTrials: 2 },
      options: {},
    });
    expect(() => parseRowInputs(JOBS.batchPredict, row)).toThrow(/modelId/);
  });

  it('lists exactly the kinds that have a definition', () => {
    expect([...JOB_KINDS].sort()).toEqual(
      Object.values(JOBS)
        .map((d) => d.kind)
        .sort(),
    );
  });
});
