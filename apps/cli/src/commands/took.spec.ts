import { tookOf } from './jobs';

describe('tookOf (a finished job’s duration in the CLI)', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 3, 47, 30) + s * 1000).toISOString();

  it('gives the wall time, with the compute seconds beside it when they differ', () => {
    // A search whose parallel trials used 156 s of compute in 125 s.
    expect(tookOf({ startedAt: at(0), finishedAt: at(125), computeSeconds: 156.2 })).toBe(
      ' in 2m05s (2m36s of compute)',
    );
    expect(tookOf({ startedAt: at(0), finishedAt: at(42), computeSeconds: 41.6 })).toBe(' in 42s');
  });

  it('rounds to whole seconds before splitting off the minutes (never 1m60s)', () => {
    // Seen on a real job: 119.6 s of wall time was printed as 1m60s.
    expect(tookOf({ startedAt: at(0), finishedAt: at(119.6), computeSeconds: 134.4 })).toBe(
      ' in 2m00s (2m14s of compute)',
    );
    expect(tookOf({ startedAt: at(0), finishedAt: at(59.7), computeSeconds: 59.7 })).toBe(' in 1m00s');
  });

  it('falls back to the compute seconds without both timestamps, and to nothing without either', () => {
    expect(tookOf({ startedAt: null, finishedAt: null, computeSeconds: 12 })).toBe(' in 12s');
    expect(tookOf({ startedAt: at(0), finishedAt: null, computeSeconds: 0 })).toBe('');
  });
});
