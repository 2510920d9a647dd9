import { builtinBackbones, sampleAt } from '@modelsmith/ml';
import type { DatasetShape } from '../recipe';
import { observations, proposeParams, samplersAgreeFor, spaceParams, type RecordedTrial } from './proposal';
import { configFromParams, recipeSearchSpace } from './recipe-space';

const specs = builtinBackbones();
const spec = (id: string) => {
  const s = specs.find((x) => x.id === id);
  if (!s) throw new Error(`no backbone ${id}`);
  return s;
};
const photos: DatasetShape = { height: 64, width: 64, channels: 3, numClasses: 6, trainSamples: 220 };
const space = recipeSearchSpace(['small_cnn_s', 'small_cnn_m', 'mobilenet_v2']);
const SEED = 1234;

type Row = RecordedTrial & { metrics: { validationAccuracy?: number } | null };
const score = (t: Row) =>
  t.status === 'SUCCEEDED' && typeof t.metrics?.validationAccuracy === 'number'
    ? t.metrics.validationAccuracy
    : null;

/** Ledger rows of configurations 0..n-1 drawn at random, at rung 0, with a made-up accuracy. */
function ledger(n: number): Row[] {
  return Array.from({ length: n }, (_, config) => {
    const p = sampleAt(space, SEED, config);
    const c = configFromParams(p, spec(String(p.backbone)), photos);
    const acc = c.backbone === 'mobilenet_v2' ? 0.5 + c.learningRate * 20 : 0.2 + config / 100;
    return {
      status: 'SUCCEEDED',
      params: { config, rung: 0, epochs: 1, ...c },
      metrics: { validationAccuracy: acc },
    };
  });
}

describe('configuration proposals', () => {
  it('reads a recorded configuration back in the space terms, leaving out what did not come from it', () => {
    const p = sampleAt(space, SEED, 3);
    const back = spaceParams(space, { ...configFromParams(p, spec('mobilenet_v2'), photos) }, spec, photos);
    expect(back).toMatchObject({
      backbone: 'mobilenet_v2',
      learningRate: p.learningRate,
      weightDecay: p.weightDecay,
      batchSize: p.batchSize,
      augmentation: p.augmentation,
      regularizer: p.regularizer,
      // 64 px photos: MobileNetV2 takes 48, 64 and 96 px, so each scale has its own size.
      inputScale: p.inputScale,
    });
    const scratch = configFromParams({ ...p, regularizer: 'l2sp' }, spec('small_cnn_m'), photos);
    const s = spaceParams(space, { ...scratch }, spec, photos);
    expect(s.regularizer).toBeUndefined();
    expect(s.regularizerAlpha).toBeUndefined();
    // small_cnn_m stops at 64 px: scales 1 and 1.5 give the same size, 0.75 its own.
    const scaled = (k: number) =>
      spaceParams(
        space,
        { ...configFromParams({ ...p, inputScale: k }, spec('small_cnn_m'), photos) },
        spec,
        photos,
      ).inputScale;
    expect([scaled(0.75), scaled(1), scaled(1.5)]).toEqual([0.75, undefined, undefined]);
  });

  it('uses the finished bottom-rung trials only', () => {
    const rows = ledger(6);
    rows.push({ status: 'RUNNING', params: { ...rows[0].params, config: 6 }, metrics: null });
    rows.push({ ...rows[1], params: { ...rows[1].params, rung: 1, epochs: 3 } });
    expect(observations(space, rows, score, spec, photos).map((o) => o.score)).toEqual(
      ledger(6).map((r) => r.metrics!.validationAccuracy),
    );
  });

  it('random: the seeded draw; tpe: random until 5 trials finished, then a function of the seed and the ledger', () => {
    const rows = ledger(8);
    expect(proposeParams('random', space, SEED, 8, rows, score, spec, photos)).toEqual(
      sampleAt(space, SEED, 8),
    );
    expect(proposeParams('tpe', space, SEED, 4, rows.slice(0, 4), score, spec, photos)).toEqual(
      sampleAt(space, SEED, 4),
    );
    const a = proposeParams('tpe', space, SEED, 8, rows, score, spec, photos);
    expect(a).not.toEqual(sampleAt(space, SEED, 8));
    // A resumed search reads the same rows (in any order) and proposes the same configuration.
    const reread = [...rows].reverse().map((r) => JSON.parse(JSON.stringify(r)) as Row);
    expect(proposeParams('tpe', space, SEED, 8, reread, score, spec, photos)).toEqual(a);
    // Another result recorded changes what TPE proposes next.
    const more = [...rows, ...ledger(9).slice(8)];
    expect(proposeParams('tpe', space, SEED, 9, more, score, spec, photos)).not.toEqual(
      proposeParams('tpe', space, SEED, 9, rows, score, spec, photos),
    );
  });

  it('tells how many leading trials a tpe search shares with a random one of the same seed', () => {
    const at = (rows: Row[]) =>
      samplersAgreeFor(
        rows.map((r, index) => ({ ...r, index })),
        score,
      );
    // Trials 0-4: five scored new configurations; trial 5 is the first TPE proposes itself.
    expect(at(ledger(8))).toBe(5);
    // A promotion after the fifth result is ASHA's, the same in both; the next new configuration parts.
    const rows = ledger(8);
    const promoted = { ...rows[0], params: { ...rows[0].params, rung: 1, epochs: 3 } };
    expect(at([...rows.slice(0, 5), promoted, ...rows.slice(5)])).toBe(6);
    // A failed trial has no score: TPE still draws at random after it.
    const failed = rows.map((r, i) => (i === 2 ? { ...r, status: 'FAILED', metrics: null } : r));
    expect(at(failed)).toBe(6);
    // Never parted: all of them (in index order, whatever order they come in).
    expect(at(ledger(4))).toBe(4);
    expect(
      samplersAgreeFor([...ledger(8).entries()].map(([index, r]) => ({ ...r, index })).reverse(), score),
    ).toBe(5);
  });
});
