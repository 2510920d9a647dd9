import { JOBS, bullJobName, definitionForBullName, definitionForKind, validatePayload, InvalidJobPayloadError } from './queues';
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
    expect(validatePayload(JOBS.noop, { tenantId: 't1', jobId: 'j1' })).toEqual({ tenantId: 't1', jobId: 'j1' });
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
