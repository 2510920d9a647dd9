import { sampleAt, type Params, type SearchSpace } from './space';
import { splitByQuantile, tpeSampleAt, type TpeObservation } from './tpe';

/** A space shaped like the recipe search's: choices, log-uniform rates and an integer. */
const SPACE: SearchSpace = {
  backbone: { kind: 'choice', values: ['a', 'b', 'c', 'd', 'e'] },
  inputScale: { kind: 'choice', values: [0.75, 1, 1.5] },
  learningRate: { kind: 'loguniform', min: 3e-4, max: 5e-3 },
  weightDecay: { kind: 'choice', values: [0, 1e-4, 1e-3, 1e-2] },
  batchSize: { kind: 'choice', values: [16, 32, 64] },
  augmentation: { kind: 'choice', values: ['none', 'light', 'randaugment'] },
  regularizerAlpha: { kind: 'loguniform', min: 0.01, max: 1 },
  depth: { kind: 'int', min: 1, max: 6 },
};

const BACKBONE: Record<string, number> = { a: 0.2, b: 0.35, c: 0.3, d: 0.5, e: 0.25 };

/** A synthetic "validation accuracy": best 0.62 at backbone d, lr 2.5e-3, alpha 0.05, light, 16, depth 4, 1.5x. */
function objective(p: Params): number {
  const lr = Math.log10(Number(p.learningRate)) - Math.log10(2.5e-3);
  const alpha = Math.log10(Number(p.regularizerAlpha)) - Math.log10(0.05);
  return (
    BACKBONE[String(p.backbone)] -
    0.3 * lr * lr -
    0.03 * alpha * alpha +
    (p.augmentation === 'light' ? 0.05 : 0) +
    (p.batchSize === 16 ? 0.04 : 0) -
    0.02 * Math.abs(Number(p.depth) - 4) +
    (p.inputScale === 1.5 ? 0.03 : 0)
  );
}

function inSpace(p: Params): boolean {
  return Object.entries(SPACE).every(([name, s]) => {
    const v = p[name];
    if (s.kind === 'choice') return s.values.includes(v);
    if (typeof v !== 'number' || !(v >= s.min && v <= s.max)) return false;
    return s.kind !== 'int' || Number.isInteger(v);
  });
}

function tpeRun(seed: number, draws: number): { best: number; observations: TpeObservation[] } {
  const observations: TpeObservation[] = [];
  let best = -Infinity;
  for (let i = 0; i < draws; i++) {
    const p = tpeSampleAt(SPACE, seed, i, observations);
    const y = objective(p);
    observations.push({ params: p, score: y });
    best = Math.max(best, y);
  }
  return { best, observations };
}

describe('TPE sampler', () => {
  it('draws like the seeded random search until enough observations have a score', () => {
    const obs: TpeObservation[] = [0, 1, 2, 3].map((i) => ({ params: sampleAt(SPACE, 3, i), score: i / 10 }));
    expect(tpeSampleAt(SPACE, 3, 4, obs)).toEqual(sampleAt(SPACE, 3, 4));
    // Failed observations do not count towards the start-up.
    const failed = [...obs, { params: sampleAt(SPACE, 3, 4), score: null }];
    expect(tpeSampleAt(SPACE, 3, 5, failed)).toEqual(sampleAt(SPACE, 3, 5));
    const enough = [...obs, { params: sampleAt(SPACE, 3, 4), score: 0.9 }];
    expect(tpeSampleAt(SPACE, 3, 5, enough)).not.toEqual(sampleAt(SPACE, 3, 5));
  });

  it('is a deterministic function of (space, seed, i, observations), and proposes points of the space', () => {
    const { observations } = tpeRun(11, 15);
    const a = tpeSampleAt(SPACE, 11, 15, observations);
    expect(
      tpeSampleAt(
        SPACE,
        11,
        15,
        observations.map((o) => ({ ...o })),
      ),
    ).toEqual(a);
    expect(tpeSampleAt(SPACE, 12, 15, observations)).not.toEqual(a);
    expect(tpeSampleAt(SPACE, 11, 16, observations)).not.toEqual(a);
    for (const o of observations) expect(inSpace(o.params as Params)).toBe(true);
    expect(inSpace(a)).toBe(true);
  });

  it('splits good from bad by the gamma quantile of the score, failed ones last', () => {
    const obs = [0.5, null, 0.9, 0.1, 0.7, 0.3, 0.2, 0.8].map((score, k) => ({ params: { k }, score }));
    const { good, bad } = splitByQuantile(obs, 0.25);
    expect(good.map((o) => o.score)).toEqual([0.9, 0.8]);
    expect(bad.map((o) => o.score)).toEqual([0.7, 0.5, 0.3, 0.2, 0.1, null]);
    expect(splitByQuantile(obs.slice(0, 2), 0.25).good.map((o) => o.score)).toEqual([0.5]);
  });

  it('concentrates on the values of the good observations', () => {
    // Backbone 'd' and a learning rate near 2.5e-3 score well, the rest badly.
    const obs: TpeObservation[] = Array.from({ length: 20 }, (_, i) => {
      const p = sampleAt(SPACE, 21, i);
      const good = i % 4 === 0;
      if (good) Object.assign(p, { backbone: 'd', learningRate: 2.5e-3 * (1 + (i % 3) * 0.05) });
      else if (p.backbone === 'd') p.backbone = 'a';
      return { params: p, score: good ? 0.9 : 0.2 };
    });
    const proposals = Array.from({ length: 40 }, (_, i) => tpeSampleAt(SPACE, 5, 20 + i, obs));
    const share = proposals.filter((p) => p.backbone === 'd').length / proposals.length;
    const near = proposals.filter((p) => Math.abs(Math.log(Number(p.learningRate) / 2.5e-3)) < 0.3).length;
    // Random draws pick 'd' 20% of the time and land this near 2.5e-3 in 21% of draws; measured
    // 100% and 47.5% (seed 5).
    expect(share).toBeGreaterThan(0.7);
    expect(near / proposals.length).toBeGreaterThan(0.35);
  });

  it('leaves out of a dimension the observations that miss it or hold a value outside the space', () => {
    const obs: TpeObservation[] = Array.from({ length: 12 }, (_, i) => ({
      params: { ...sampleAt(SPACE, 2, i), backbone: i < 6 ? undefined : 'not-a-choice', batchSize: 48 },
      score: i / 12,
    }));
    const p = tpeSampleAt(SPACE, 2, 12, obs);
    expect(inSpace(p)).toBe(true);
  });

  it('finds better configurations than random draws in the same number of draws (mean over 30 seeds)', () => {
    // Measured (seeds 1-30): best of 20 draws, random 0.505 vs TPE 0.545 (the optimum is 0.62); of
    // 12 draws 0.472 vs 0.508. Asserted with half the margin.
    let random = 0;
    let tpe = 0;
    const seeds = 30;
    for (let s = 1; s <= seeds; s++) {
      let best = -Infinity;
      for (let i = 0; i < 20; i++) best = Math.max(best, objective(sampleAt(SPACE, s, i)));
      random += best / seeds;
      tpe += tpeRun(s, 20).best / seeds;
    }
    expect(tpe - random).toBeGreaterThan(0.02);
  });
});
