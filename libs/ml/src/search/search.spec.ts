import { asha, ashaCandidates, bestOutcome, rungResources, type RungOutcome } from './asha';
import { sampleAt, SearchSpaceError, validateSpace, type SearchSpace } from './space';

const SPACE: SearchSpace = {
  lr: { kind: 'loguniform', min: 1e-4, max: 1e-1 },
  dropout: { kind: 'uniform', min: 0, max: 0.5 },
  batch: { kind: 'choice', values: [16, 32, 64] },
  layers: { kind: 'int', min: 1, max: 4 },
};

describe('seeded sampler', () => {
  it('draws the same i-th configuration for the same seed, and different ones across i and seeds', () => {
    expect(sampleAt(SPACE, 7, 3)).toEqual(sampleAt(SPACE, 7, 3));
    expect(sampleAt(SPACE, 7, 3)).not.toEqual(sampleAt(SPACE, 7, 4));
    expect(sampleAt(SPACE, 7, 3)).not.toEqual(sampleAt(SPACE, 8, 3));
  });

  it('keeps every value in its range, and a log-uniform median near the geometric mean', () => {
    const draws = Array.from({ length: 2000 }, (_, i) => sampleAt(SPACE, 1, i));
    for (const d of draws) {
      expect(d.lr).toBeGreaterThanOrEqual(1e-4);
      expect(d.lr).toBeLessThanOrEqual(1e-1);
      expect(d.dropout).toBeGreaterThanOrEqual(0);
      expect(d.dropout).toBeLessThan(0.5);
      expect([16, 32, 64]).toContain(d.batch);
      expect(Number.isInteger(d.layers) && (d.layers as number) >= 1 && (d.layers as number) <= 4).toBe(true);
    }
    const lrs = draws.map((d) => d.lr as number).sort((a, b) => a - b);
    // Median of log-uniform(1e-4, 1e-1) is 10^-2.5 ~ 3.16e-3; 2000 draws put it within ~10%.
    expect(Math.log10(lrs[1000])).toBeCloseTo(-2.5, 1);
    for (const v of [16, 32, 64]) {
      const share = draws.filter((d) => d.batch === v).length / draws.length;
      expect(share).toBeGreaterThan(0.28);
      expect(share).toBeLessThan(0.39);
    }
    for (const v of [1, 2, 3, 4]) expect(draws.some((d) => d.layers === v)).toBe(true);
  });

  it('adding a parameter to a space does not change the values drawn for the others', () => {
    const wider = { ...SPACE, momentum: { kind: 'uniform', min: 0.8, max: 0.99 } } as const;
    const a = sampleAt(SPACE, 5, 11);
    const b = sampleAt(wider, 5, 11);
    expect(b).toMatchObject(a);
    expect(b.momentum).toBeGreaterThanOrEqual(0.8);
  });

  it('rejects malformed spaces', () => {
    expect(() => validateSpace({ x: { kind: 'choice', values: [] } })).toThrow(SearchSpaceError);
    expect(() => validateSpace({ x: { kind: 'uniform', min: 2, max: 1 } })).toThrow(/min 2 > max 1/);
    expect(() => validateSpace({ x: { kind: 'loguniform', min: 0, max: 1 } })).toThrow(SearchSpaceError);
  });
});

describe('ASHA', () => {
  const o = { minResource: 1, maxResource: 9, eta: 3 };

  it('spaces rungs by eta and ends at the maximum resource', () => {
    expect(rungResources(o)).toEqual([1, 3, 9]);
    expect(rungResources({ minResource: 2, maxResource: 10, eta: 3 })).toEqual([2, 6, 10]);
    expect(rungResources({ minResource: 4, maxResource: 4, eta: 3 })).toEqual([4]);
    expect(() => rungResources({ minResource: 0, maxResource: 4, eta: 3 })).toThrow(RangeError);
  });

  it('starts new configurations until a rung has eta results, then promotes the best one once', () => {
    expect(asha(o, [])).toEqual({ kind: 'new', rung: 0, resource: 1 });
    const two: RungOutcome[] = [
      { config: 0, rung: 0, score: 0.5 },
      { config: 1, rung: 0, score: 0.7 },
    ];
    expect(asha(o, two).kind).toBe('new');
    const three = [...two, { config: 2, rung: 0, score: 0.6 }];
    expect(asha(o, three)).toEqual({ kind: 'promote', config: 1, rung: 1, resource: 3 });
    // Once config 1 ran at rung 1, a new configuration starts (quota of rung 0 is 1 = used).
    expect(asha(o, [...three, { config: 1, rung: 1, score: 0.8 }]).kind).toBe('new');
  });

  it('looks at the highest rung first and never promotes a failed configuration', () => {
    const outcomes: RungOutcome[] = [];
    for (let c = 0; c < 9; c++) outcomes.push({ config: c, rung: 0, score: c === 8 ? null : c / 10 });
    // Top third of rung 0 by score: 7, 6, 5 (8 failed). Promote 7, 6, 5 to rung 1.
    for (const c of [7, 6, 5]) outcomes.push({ config: c, rung: 1, score: c / 10 + 0.1 });
    const c = ashaCandidates(o, outcomes);
    expect(c[0]).toEqual({ kind: 'promote', config: 7, rung: 2, resource: 9 });
    expect(c.some((d) => d.kind === 'promote' && d.config === 8)).toBe(false);
    expect(c[c.length - 1].kind).toBe('new');
  });

  it('on a synthetic problem finds a near-best configuration for far less than training all fully', () => {
    // True quality q(c) is a fixed random number; a run at resource r scores q * (1 - 0.5 / r) + noise.
    const quality = Array.from({ length: 60 }, (_, c) => ((c * 7919) % 60) / 60);
    const outcomes: RungOutcome[] = [];
    let spent = 0;
    let next = 0;
    while (spent < 120) {
      const d = asha(o, outcomes);
      const config = d.kind === 'new' ? next++ : d.config;
      const noise = (((config * 31 + d.rung * 17) % 11) - 5) / 1000;
      outcomes.push({ config, rung: d.rung, score: quality[config] * (1 - 0.5 / d.resource) + noise });
      spent += d.resource;
    }
    const best = bestOutcome(outcomes)!;
    const tried = new Set(outcomes.map((t) => t.config));
    const bestTried = Math.max(...[...tried].map((c) => quality[c]));
    expect(best.rung).toBe(2);
    expect(quality[best.config]).toBeGreaterThanOrEqual(bestTried - 0.05);
    // Training each tried configuration at the top rung would cost tried x 9.
    expect(spent).toBeLessThan(tried.size * 9 * 0.5);
  });

  it('best outcome: highest score, ties to the higher rung then the earlier configuration', () => {
    expect(bestOutcome([])).toBeUndefined();
    expect(bestOutcome([{ config: 0, rung: 0, score: null }])).toBeUndefined();
    expect(
      bestOutcome([
        { config: 2, rung: 0, score: 0.9 },
        { config: 1, rung: 1, score: 0.9 },
        { config: 0, rung: 1, score: 0.9 },
        { config: 3, rung: 2, score: 0.8 },
      ]),
    ).toEqual({ config: 0, rung: 1, score: 0.9 });
  });
});
