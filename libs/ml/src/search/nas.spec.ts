import * as tf from '@tensorflow/tfjs';
import { ModelZoo } from '../zoo/model-zoo';
import { buildClassifier } from '../zoo/classifier';
import { NAS_CNN_DEFAULT_FEATURE_DIM } from '../catalogue/builtin-backbones';
import {
  archCost,
  DEFAULT_NAS_ARCH,
  formatArch,
  mutateArch,
  NasArchError,
  parseArch,
  randomArch,
} from './arch';
import { costAwareFitness, proposeArch, type EvolutionMember } from './evolution';
import { bestWithin, paretoFront } from './pareto';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('architecture strings', () => {
  it('round-trip, and the default parses with the catalogue feature dim as its last width', () => {
    const a = parseArch(DEFAULT_NAS_ARCH);
    expect(formatArch(a)).toBe(DEFAULT_NAS_ARCH);
    expect(a.stages[a.stages.length - 1].width).toBe(NAS_CNN_DEFAULT_FEATURE_DIM);
    expect(a.stages.map((s) => s.block)).toEqual(['conv', 'mb', 'mb']);
  });

  it.each([
    ['s16', /stages/],
    ['s7-c16x1-c16x1', /stem/],
    ['s16-c17x1-c16x1', /width 17/],
    ['s16-c16x4-c16x1', /depth 4/],
    ['s16-c16x1e4-c16x1', /no expansion|expected/],
    ['s16-m16x1-c16x1', /expansion/],
    ['s16-c16x1-c16x1-c16x1-c16x1-c16x1', /5 stages/],
    ['x'.repeat(300), /short string/],
  ])('rejects %s', (text, message) => {
    expect(() => parseArch(text)).toThrow(NasArchError);
    expect(() => parseArch(text)).toThrow(message);
  });

  it('random and mutated architectures are valid, seeded, and a mutation changes one thing', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const a = randomArch(3, i);
      expect(randomArch(3, i)).toBe(a);
      expect(() => parseArch(a)).not.toThrow();
      seen.add(a);
      const child = mutateArch(a, 3, i);
      expect(child).not.toBe(a);
      expect(mutateArch(a, 3, i)).toBe(child);
      const [p, c] = [parseArch(a), parseArch(child)];
      // One edit: the stem, one stage, or one stage added / removed at the end.
      const changedStages = p.stages.filter(
        (s, k) => JSON.stringify(s) !== JSON.stringify(c.stages[k]),
      ).length;
      const edits =
        (p.stem !== c.stem ? 1 : 0) +
        Math.abs(p.stages.length - c.stages.length) +
        (p.stages.length === c.stages.length ? changedStages : 0);
      expect(edits).toBe(1);
    }
    expect(seen.size).toBeGreaterThan(150);
  });
});

describe('nas_cnn', () => {
  it('builds what archCost counts: parameters exactly, outputs a spatial feature map', async () => {
    const zoo = new ModelZoo();
    for (const arch of [
      DEFAULT_NAS_ARCH,
      's8-m16x2e6-m16x3e2',
      's32-c48x2-c96x1-m96x2e2-c64x1',
      randomArch(1, 5),
    ]) {
      const b = await zoo.load('nas_cnn', { arch, inputSize: { height: 28, width: 28, channels: 1 } });
      const clf = buildClassifier(b, { numClasses: 10 });
      expect(clf.model.countParams()).toBe(archCost(arch, { height: 28, width: 28, channels: 1 }, 10).params);
      const out = b.model.outputs[0].shape;
      expect(out.length).toBe(4);
      expect(out[3]).toBe(parseArch(arch).stages.at(-1)!.width);
      clf.model.dispose();
    }
  });

  it('counts multiply-accumulates that grow with width, depth and input', () => {
    const input = { height: 32, width: 32, channels: 3 };
    const base = archCost('s16-c24x1-c32x1', input, 10).macs;
    expect(archCost('s16-c48x1-c32x1', input, 10).macs).toBeGreaterThan(base);
    expect(archCost('s16-c24x2-c32x1', input, 10).macs).toBeGreaterThan(base);
    expect(archCost('s16-c24x1-c32x1', { ...input, height: 64, width: 64 }, 10).macs).toBeCloseTo(
      base * 4,
      -4,
    );
    // An inverted residual with expansion 2 costs less than a dense 3x3 conv of the same widths.
    expect(archCost('s16-m24x1e2-c32x1', input, 10).macs).toBeLessThan(base);
    // First conv of the stem: 32*32*3*3*3*16 MACs.
    expect(archCost('s16-c8x1-c8x1', input, 2).macs).toBeGreaterThan(32 * 32 * 27 * 16);
  });

  it('a nas_cnn classifier saves and reloads with the same predictions (standard layers only)', async () => {
    const zoo = new ModelZoo();
    const b = await zoo.load('nas_cnn', {
      arch: 's8-m16x2e2-c16x1',
      inputSize: { height: 16, width: 16, channels: 1 },
    });
    const clf = buildClassifier(b, { numClasses: 3, freezeBackbone: false });
    const saved: tf.io.ModelArtifacts[] = [];
    await clf.model.save(
      tf.io.withSaveHandler(
        async (a) => (
          saved.push(a),
          { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
        ),
      ),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved[0]));
    const x = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 3);
    const d = (await (clf.model.predict(x) as tf.Tensor).data()) as Float32Array;
    const e = (await (loaded.predict(x) as tf.Tensor).data()) as Float32Array;
    for (let i = 0; i < d.length; i++) expect(e[i]).toBeCloseTo(d[i], 5);
  });
});

describe('aging evolution', () => {
  const o = { population: 4, sample: 2, seed: 9 };

  it('proposes random architectures until the population is full, then mutates a fit parent', () => {
    expect(proposeArch([], o, 0)).toEqual({ arch: randomArch(9, 0) });
    const h: EvolutionMember[] = [0, 1, 2, 3].map((id) => ({
      id,
      arch: randomArch(9, id),
      fitness: id / 10,
    }));
    expect(proposeArch(h.slice(0, 3), o, 3).parent).toBeUndefined();
    const p = proposeArch(h, o, 4);
    expect(p.parent).toBeDefined();
    expect(p.arch).toBe(mutateArch(h[p.parent!].arch, 9, 4));
    expect(proposeArch(h, o, 4)).toEqual(p);
  });

  it('the oldest die: only the most recent `population` members can be parents', () => {
    const h: EvolutionMember[] = [{ id: 0, arch: DEFAULT_NAS_ARCH, fitness: 0.99 }];
    for (let id = 1; id <= 4; id++) h.push({ id, arch: randomArch(9, id), fitness: 0.1 * id });
    for (let i = 5; i < 60; i++) expect(proposeArch(h, o, i).parent).not.toBe(0);
  });

  it('on a synthetic fitness, its later proposals are fitter than random draws (it exploits what it learnt)', () => {
    // Fitness favours a wide last stage and cheap models: a fixed function of the architecture.
    const f = (arch: string) =>
      parseArch(arch).stages.at(-1)!.width / 96 -
      0.1 * Math.log10(archCost(arch, { height: 28, width: 28, channels: 1 }, 10).macs / 1e6);
    const meanOfLater = (evolve: boolean, seed: number) => {
      const h: EvolutionMember[] = [];
      for (let i = 0; i < 60; i++) {
        const arch = evolve
          ? proposeArch(h, { population: 10, sample: 3, seed }, i).arch
          : randomArch(seed, i);
        h.push({ id: i, arch, fitness: f(arch) });
      }
      const later = h.slice(30).map((m) => m.fitness!);
      return later.reduce((x, y) => x + y, 0) / later.length;
    };
    // Measured: evolution ahead on 20 of 20 seeds, by 0.10-0.30 (means ~0.85 vs ~0.67).
    let wins = 0;
    for (let seed = 1; seed <= 10; seed++)
      if (meanOfLater(true, seed) > meanOfLater(false, seed) + 0.03) wins++;
    expect(wins).toBeGreaterThanOrEqual(9);
  });

  it('fitness: accuracy minus lambda per decade of MACs; infeasible is -Infinity', () => {
    expect(costAwareFitness(0.9, 1e6, 0.02)).toBeCloseTo(0.9, 9);
    expect(costAwareFitness(0.9, 1e7, 0.02)).toBeCloseTo(0.88, 9);
    expect(costAwareFitness(0.9, 1e7, 0.02, false)).toBe(-Infinity);
  });
});

describe('Pareto front', () => {
  it('keeps the non-dominated points, best first on the first objective', () => {
    const pts = [
      { id: 'a', acc: 0.9, ms: 10 },
      { id: 'b', acc: 0.8, ms: 2 },
      { id: 'c', acc: 0.85, ms: 12 }, // dominated by a
      { id: 'd', acc: 0.8, ms: 3 }, // dominated by b
      { id: 'e', acc: 0.95, ms: 30 },
      { id: 'f', acc: NaN, ms: 1 },
    ];
    expect(paretoFront(pts, [(p) => p.acc, (p) => -p.ms]).map((p) => p.id)).toEqual(['e', 'a', 'b']);
    expect(paretoFront([], [(p: number) => p])).toEqual([]);
    // Equal points do not dominate each other.
    expect(paretoFront([{ v: 1 }, { v: 1 }], [(p) => p.v])).toHaveLength(2);
  });

  it('picks the best item within a cost limit', () => {
    const pts = [
      { id: 'a', acc: 0.9, ms: 10 },
      { id: 'b', acc: 0.8, ms: 2 },
      { id: 'c', acc: 0.9, ms: 8 },
      { id: 'd', acc: NaN, ms: 1 },
    ];
    const at = (limit: number) =>
      bestWithin(
        pts,
        (p) => p.ms,
        (p) => p.acc,
        limit,
      )?.id;
    expect([at(1), at(2), at(8), at(10), at(100)]).toEqual([undefined, 'b', 'c', 'c', 'c']);
  });
});
