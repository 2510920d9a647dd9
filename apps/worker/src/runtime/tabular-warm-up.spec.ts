import { loadConfig } from '@modelsmith/config';
import { startTabularWarmUp } from './tabular-warm-up';

const minimal = { S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b' };

function logger() {
  const lines: string[] = [];
  return { lines, log: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(`WARN ${m}`) };
}

describe('startTabularWarmUp', () => {
  it('runs no search when WORKER_TABULAR_WARM_UP=off, and says so', () => {
    const log = logger();
    let calls = 0;
    const started = startTabularWarmUp(loadConfig({ ...minimal, WORKER_TABULAR_WARM_UP: 'off' }), log, () => {
      calls++;
      return Promise.resolve({ searches: 1, cpuMs: 1, wallMs: 1 });
    });
    expect(started).toBeNull();
    expect(calls).toBe(0);
    expect(log.lines).toEqual(['tabular warm-up off (WORKER_TABULAR_WARM_UP=off)']);
  });

  it('runs the real warm-up by default (three small searches here) and logs its cost', async () => {
    const log = logger();
    const w = await startTabularWarmUp(loadConfig(minimal), log, () =>
      import('@modelsmith/ml/tabular').then((m) => m.warmUpTabular({ rounds: 1, rows: 40 })),
    );
    expect(w?.searches).toBe(3);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(/^tabular warm-up: 3 synthetic searches, \d+ CPU ms/);
  });

  it('logs a failed warm-up as a warning instead of throwing', async () => {
    const log = logger();
    const w = await startTabularWarmUp(loadConfig(minimal), log, () => Promise.reject(new Error('boom')));
    expect(w).toBeNull();
    expect(log.lines).toEqual(['WARN tabular warm-up failed: boom']);
  });
});
