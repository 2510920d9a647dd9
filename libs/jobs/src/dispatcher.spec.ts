import { bullPriority, payloadFor } from './dispatcher';

describe('bullPriority', () => {
  it('maps more urgent rows to smaller BullMQ priorities within range', () => {
    expect(bullPriority(100)).toBe(1);
    expect(bullPriority(0)).toBe(101);
    expect(bullPriority(-100)).toBe(201);
    expect(bullPriority(10)).toBeLessThan(bullPriority(5));
    expect(bullPriority(1e9)).toBe(1);
  });
});

describe('payloadFor', () => {
  it('carries ids only, and the dataset version for ingestion', () => {
    expect(payloadFor({ id: 'j', tenantId: 't', kind: 'NOOP', datasetVersionId: null })).toEqual({
      tenantId: 't',
      jobId: 'j',
    });
    expect(payloadFor({ id: 'j', tenantId: 't', kind: 'INGEST_DATASET', datasetVersionId: 'v' })).toEqual({
      tenantId: 't',
      jobId: 'j',
      datasetVersionId: 'v',
    });
  });
});
