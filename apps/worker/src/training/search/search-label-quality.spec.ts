import {
  initBackend,
  InMemoryArtifactStore,
  MemoryCheckpointStore,
  ModelZoo,
  TrainingDynamics,
  type DynamicsValues,
  type LoadBackboneOptions,
} from '@modelsmith/ml';
import type { DatasetShape, Recipe } from '../recipe';
import { labelQuality } from '../label-quality';
import { memoryLedger } from './memory-ledger';
import {
  finishCosts,
  HELD_OUT_EPOCH_SHARE,
  HELD_OUT_LIGHT_EPOCH_SHARE,
  runDispatchedTrial,
  runSearch,
  type LedgerTrial,
  type BestModel,
  type SearchHooks,
  type SearchInput,
  type TrialDispatcher,
  type TrialLedger,
} from './search-runner';
import {
  dynamicsFor,
  readTrialDynamics,
  searchLabelQuality,
  TRIAL_DYNAMICS_FILE,
  writeTrialDynamics,
  type DynamicsTrial,
  type SearchLabelQuality,
} from './search-label-quality';

import { FIXTURE_SIZE, FIXTURE_TRAIN, twoClassDataset } from './two-class-fixture';
const SIZE = FIXTURE_SIZE;
const TRAIN = FIXTURE_TRAIN;
const dataset = twoClassDataset;

/** The zoo with `small_cnn_xs` presented as a pretrained backbone (head on features, held-out pass). */
function pretrendingZoo(): ModelZoo {
  const real = new ModelZoo();
  return {
    get: (id: string) => ({ ...real.get(id), pretrained: true }),
    load: (id: string, o?: LoadBackboneOptions) => real.load(id, o),
  } as unknown as ModelZoo;
}

const isLq = (l: SearchLabelQuality | undefined): l is Extract<SearchLabelQuality, { trial: number }> =>
  l !== undefined && 'dynamics' in l;

/** Samples seen in each epoch of `d` (a resumed run that recorded an epoch twice would show it). */
function seenPerEpoch(d: DynamicsValues): number[] {
  return Array.from(
    { length: d.epochs },
    (_, e) =>
      Array.from(d.prob.subarray(e * d.samples, (e + 1) * d.samples)).filter((p) => !Number.isNaN(p)).length,
  );
}

describe("search: the job's model gets label-quality inputs (training dynamics, held-out pass)", () => {
  const { index, pixels } = dataset();
  const shape: DatasetShape = { height: SIZE, width: SIZE, channels: 1, numClasses: 2, trainSamples: TRAIN };
  const store = new InMemoryArtifactStore();

  beforeAll(async () => {
    await initBackend(); // wasm
  });

  function input(
    ledger: TrialLedger,
    checkpoints: MemoryCheckpointStore,
    prefix: string,
    over: Partial<SearchInput> = {},
  ): SearchInput {
    return {
      index,
      shards: { get: () => Promise.resolve(pixels) },
      zoo: new ModelZoo(),
      shape,
      options: { seed: 3 },
      backbones: ['small_cnn_xs'],
      firstBackbone: 'small_cnn_xs',
      maxTrials: 3,
      asha: { minResource: 1, maxResource: 2, eta: 3 },
      seed: 3,
      fit: 'fill',
      ledger,
      checkpoints,
      writer: store,
      reader: store,
      trialPrefix: (i) => `${prefix}/trials/${i}/`,
      modelPrefix: `${prefix}/model/`,
      ...over,
    };
  }

  function hooks(signal: AbortSignal, bests: BestModel[], over: Partial<SearchHooks> = {}): SearchHooks {
    return {
      signal,
      isBudgetStop: () => false,
      onProgress: () => Promise.resolve(),
      onEpoch: () => Promise.resolve(),
      onTrial: () => Promise.resolve(),
      onBest: (b) => Promise.resolve(void bests.push(b)),
      ...over,
    };
  }

  it("every best carries its trial's dynamics (every train sample, every epoch it trained); the final one scores them", async () => {
    const ledger = memoryLedger();
    const bests: BestModel[] = [];
    const stages: string[] = [];
    const r = await runSearch(
      input(ledger, new MemoryCheckpointStore(), 'a'),
      hooks(new AbortController().signal, bests, {
        onStage: (m) => Promise.resolve(void stages.push(m)),
      }),
    );
    // Each finished trial left its dynamics next to its model: one row per epoch it trained.
    for (const t of ledger.rows.filter((x) => x.status === 'SUCCEEDED')) {
      const d = await readTrialDynamics(store, `a/trials/${t.index}/`);
      expect(d?.samples).toBe(TRAIN);
      expect(d?.epochs).toBe(t.params.epochs);
      expect(seenPerEpoch(d!)).toEqual(new Array<number>(d!.epochs).fill(TRAIN));
    }
    expect(bests.length).toBeGreaterThanOrEqual(2);
    for (const b of bests) {
      const lq = b.labelQuality;
      if (!isLq(lq)) throw new Error(`best ${b.trial} has no label-quality inputs`);
      expect(lq.trial).toBe(b.trial);
      expect(lq.note).toBeUndefined();
      // A scratch backbone: no held-out pass (as a fixed recipe's run of it).
      expect(lq.heldOut).toBeUndefined();
      const row = ledger.rows.find((t) => t.index === b.trial)!;
      expect(lq.dynamics.epochs).toBe(row.params.epochs);
    }
    expect(r.best.final).toBe(true);
    expect(stages).toEqual([]);
    const lq = r.best.labelQuality;
    if (!isLq(lq)) throw new Error('the final model has no label-quality inputs');
    const report = labelQuality(index, lq.dynamics, lq.heldOut).report;
    expect(report.method).toBe('aum');
    expect(report.scored).toBe(TRAIN);
    expect(report.epochs).toBe(lq.dynamics.epochs);
  });

  it('a trial resumed after a crash records each epoch once: the same dynamics as an uninterrupted run', async () => {
    // One configuration of 3 epochs (warm-up 1, main 2); the crash comes after the main phase's first
    // epoch was checkpointed, as a SIGKILL between two epochs would.
    const over = { maxTrials: 1, asha: { minResource: 3, maxResource: 3, eta: 3 } };
    const plain = await runSearch(
      input(memoryLedger(), new MemoryCheckpointStore(), 'u', over),
      hooks(new AbortController().signal, []),
    );
    const ledger = memoryLedger();
    const checkpoints = new MemoryCheckpointStore();
    const crash = new Error('worker killed');
    let reports = 0;
    await expect(
      runSearch(
        input(ledger, checkpoints, 'k', over),
        hooks(new AbortController().signal, [], {
          onProgress: () => (++reports === 2 ? Promise.reject(crash) : Promise.resolve()),
        }),
      ),
    ).rejects.toBe(crash);
    expect(ledger.rows.map((t) => t.status)).toEqual(['RUNNING']);
    expect(await readTrialDynamics(store, 'k/trials/0/')).toBeUndefined();
    let after = 0;
    const resumed = await runSearch(
      input(ledger, checkpoints, 'k', over),
      hooks(new AbortController().signal, [], { onProgress: () => Promise.resolve(void after++) }),
    );
    // It went on from the checkpoint: one epoch's end left to report, of the three.
    expect(after).toBe(1);
    expect(resumed.resumedTrial).toBe(0);
    const a = plain.best.labelQuality;
    const b = resumed.best.labelQuality;
    if (!isLq(a) || !isLq(b)) throw new Error('no label-quality inputs');
    expect(b.dynamics.epochs).toBe(3);
    expect(seenPerEpoch(b.dynamics)).toEqual([TRAIN, TRAIN, TRAIN]);
    expect((await readTrialDynamics(store, 'k/trials/0/'))?.epochs).toBe(3);
    expect(b.dynamics.margin).toHaveLength(a.dynamics.margin.length);
    for (let i = 0; i < a.dynamics.margin.length; i++)
      expect(b.dynamics.margin[i]).toBeCloseTo(a.dynamics.margin[i], 3);
  });

  it('dispatched trials: the dynamics go with the recorded run folder; the model chosen from the ledger carries them', async () => {
    const ledger = memoryLedger();
    const base = input(ledger, new MemoryCheckpointStore(), 'd');
    const bests: BestModel[] = [];
    const h = hooks(new AbortController().signal, bests);
    const done: Promise<unknown>[] = [];
    const dispatched = new Set<number>();
    const q: TrialDispatcher = {
      pollMs: 20,
      slots: () => Promise.resolve(1),
      state: () => Promise.resolve('running'),
      abandon: () => Promise.resolve(),
      dispatch: (i) => {
        if (!dispatched.has(i)) {
          dispatched.add(i);
          done.push(runDispatchedTrial(base, h, i));
        }
        return Promise.resolve();
      },
    };
    const r = await runSearch({ ...base, dispatcher: q }, h);
    await Promise.all(done);
    for (const t of ledger.rows) {
      expect(t.artifactPrefix).toMatch(/^d\/trials\/\d\/runs\/[0-9a-f-]{36}\/$/);
      expect((await readTrialDynamics(store, t.artifactPrefix!))?.epochs).toBe(t.params.epochs);
    }
    for (const b of bests) expect(isLq(b.labelQuality) && b.labelQuality.trial).toBe(b.trial);
    expect(isLq(r.best.labelQuality) && r.best.labelQuality.dynamics.samples).toBe(TRAIN);
  });

  it('a job stopped while its model is a head-only first trial: that model says why it has no label quality', async () => {
    // Trial 0 trains a head on cached features (no dynamics); the job is cancelled once it is the best,
    // before any trial that records dynamics ends: the model the job keeps is that best.
    const stop = new AbortController();
    const bests: BestModel[] = [];
    await runSearch(
      input(memoryLedger(), new MemoryCheckpointStore(), 'c', {
        zoo: pretrendingZoo(),
        asha: { minResource: 2, maxResource: 2, eta: 3 },
      }),
      hooks(stop.signal, bests, {
        onBest: (b) => {
          bests.push(b);
          stop.abort(new Error('cancelled'));
          return Promise.resolve();
        },
      }),
    ).catch(() => undefined);
    expect(bests[0]).toMatchObject({
      trial: 0,
      final: false,
      labelQuality: {
        unavailable:
          "no trial of the search had recorded training dynamics (trial 0's model: small_cnn_xs, head only)",
      },
    });
  });

  it('a pretrained winner: the final model alone gets the held-out pass; a head-only trial borrows dynamics', async () => {
    const ledger = memoryLedger();
    const bests: BestModel[] = [];
    const stages: string[] = [];
    // Head 1 epoch (on cached features, no dynamics) + fine-tune 1 epoch; trial 0 is head-only.
    const r = await runSearch(
      input(ledger, new MemoryCheckpointStore(), 'h', {
        zoo: pretrendingZoo(),
        asha: { minResource: 2, maxResource: 2, eta: 3 },
      }),
      hooks(new AbortController().signal, bests, { onStage: (m) => Promise.resolve(void stages.push(m)) }),
    );
    // Trials 0 and 1 (the views head) train heads on cached features: no dynamics; trial 2 has them.
    expect(ledger.rows.slice(0, 2).map((t) => [t.params.headOnly, t.params.headViews])).toEqual([
      [true, undefined],
      [true, true],
    ]);
    expect(await readTrialDynamics(store, 'h/trials/0/')).toBeUndefined();
    expect(await readTrialDynamics(store, 'h/trials/1/')).toBeUndefined();
    expect((await readTrialDynamics(store, 'h/trials/2/'))?.epochs).toBe(1);
    for (const b of bests.filter((x) => !x.final))
      expect(isLq(b.labelQuality) ? b.labelQuality.heldOut : undefined).toBeUndefined();
    expect(stages).toEqual([`label quality: held-out scores of the ${TRAIN} training images (small_cnn_xs)`]);
    const lq = r.best.labelQuality;
    if (!isLq(lq)) throw new Error('the final model has no label-quality inputs');
    expect(lq.heldOut?.margin).toHaveLength(TRAIN);
    expect(Array.from(lq.heldOut!.margin).every(Number.isFinite)).toBe(true);
    if (r.best.trial < 2) {
      expect(lq.trial).toBeGreaterThanOrEqual(2);
      expect(lq.note).toMatch(
        new RegExp(
          `^trial ${r.best.trial} trained a head on cached features .*; the scores are trial \\d+'s$`,
        ),
      );
    } else expect([lq.trial, lq.note]).toEqual([r.best.trial, undefined]);
    const report = labelQuality(index, lq.dynamics, lq.heldOut).report;
    expect(report.method).toBe('held-out');
    expect(report.scored).toBe(TRAIN);
  });

  describe('searchLabelQuality and dynamicsFor (no training)', () => {
    const recorded = (epochs: number): DynamicsValues => {
      const d = new TrainingDynamics(TRAIN, 2);
      for (let e = 0; e < epochs; e++)
        for (let i = 0; i < TRAIN; i++)
          d.record(e, [i], [i % 2], Float32Array.from(i % 2 ? [0.3, 0.7] : [0.6, 0.4]), false);
      return d.values();
    };
    const trial = (index: number, over: Partial<DynamicsTrial> = {}): DynamicsTrial => ({
      index,
      status: 'SUCCEEDED',
      params: { backbone: 'small_cnn_xs' },
      metrics: { validationAccuracy: 0.5 },
      artifactPrefix: `s/${index}/`,
      ...over,
    });
    const recipe = { input: { height: SIZE, width: SIZE, channels: 1 }, batchSize: 8, seed: 1 } as Recipe;
    const spec = { ...new ModelZoo().get('small_cnn_xs'), pretrained: true };
    const base = {
      zoo: pretrendingZoo(),
      index,
      shards: { get: () => Promise.resolve(pixels) },
      reader: store,
    };

    beforeAll(async () => {
      await writeTrialDynamics(store, 's/1/', recorded(2));
      await writeTrialDynamics(store, 's/2/', recorded(3));
      await store.put(`s/4/${TRIAL_DYNAMICS_FILE}`, new TextEncoder().encode('not dynamics'));
    });

    it("a continuation uses its parent's dynamics, a trial without any the best other trial's, and says so", async () => {
      const parent = trial(1, { metrics: { validationAccuracy: 0.6 } });
      const better = trial(2, { metrics: { validationAccuracy: 0.9 } });
      const swa = trial(3, { params: { backbone: 'small_cnn_xs', continuationOf: 1 } });
      const trials = [parent, better, swa, trial(4)];
      expect((await dynamicsFor(store, trials, swa))?.trial).toBe(1);
      expect((await dynamicsFor(store, trials, trial(4)))?.trial).toBe(2);
      expect((await dynamicsFor(store, [trial(0), trial(4)], trial(0)))?.trial).toBeUndefined();
      const own = recorded(1);
      expect(await dynamicsFor(store, trials, trial(5), own)).toEqual({ trial: 5, dynamics: own });
      const lq = await searchLabelQuality(
        base,
        swa,
        trials,
        { spec: { ...spec, pretrained: false }, recipe },
        {
          signal: new AbortController().signal,
        },
      );
      expect(lq).toMatchObject({
        trial: 1,
        note: "trial 3 continued trial 1 with averaged weights and recorded no training dynamics; the scores are trial 1's",
      });
      expect(
        await searchLabelQuality(
          base,
          trial(0),
          [trial(0)],
          { spec, recipe },
          { signal: new AbortController().signal },
        ),
      ).toEqual({
        unavailable: "no trial of the search recorded training dynamics (trial 0's model: small_cnn_xs)",
      });
    });

    it('no held-out pass when the budget has ended or the job is stopping, or when it is stopped: the note says so', async () => {
      const winner = trial(2);
      const run = { spec, recipe };
      const ended = await searchLabelQuality(base, winner, [winner], run, {
        signal: new AbortController().signal,
        skip: 'the budget had ended',
      });
      expect(ended).toMatchObject({
        trial: 2,
        note: 'no held-out pass: the budget had ended; suspects are ranked by AUM alone',
      });
      expect('heldOut' in ended).toBe(false);
      const stop = new AbortController();
      const stopped = await searchLabelQuality(base, winner, [winner], run, {
        signal: stop.signal,
        onStart: () => Promise.resolve(stop.abort(new Error('budget'))),
      });
      expect(stopped).toMatchObject({
        note: 'the held-out pass was stopped (the budget ended); suspects are ranked by AUM alone',
      });
      expect('heldOut' in stopped).toBe(false);
      const ran = await searchLabelQuality(base, winner, [winner], run, {
        signal: new AbortController().signal,
      });
      expect(isLq(ran) && ran.heldOut?.margin.length).toBe(TRAIN);
      expect(isLq(ran) && ran.note).toBeUndefined();
      // The light form (the budget left bounds it): scores for every sample, the reason in the note.
      const light = await searchLabelQuality(base, winner, [winner], run, {
        signal: new AbortController().signal,
        form: 'light',
        formNote: 'a light held-out pass: the budget',
      });
      expect(isLq(light) && light.heldOut?.margin.length).toBe(TRAIN);
      expect(isLq(light) && light.note).toBe('a light held-out pass: the budget');
    });

    it('the after-search steps of the best trial are estimated from the measured trials of its backbone', () => {
      const row = (
        index: number,
        backbone: string,
        inputSize: number,
        costSeconds: number,
        metrics: Record<string, number | string> = {},
      ): LedgerTrial => ({
        index,
        status: 'SUCCEEDED',
        params: { backbone, inputSize, epochs: 3, config: index, rung: 0 },
        metrics: { validationAccuracy: 0.5, epochs: 3, ...metrics },
        costSeconds,
        artifactPrefix: null,
      });
      const zoo = new ModelZoo();
      const spec = (id: string) => zoo.get(id);
      // 100 train, 20 validation, 30 test images of 64 px, 6 classes.
      const split = (n: number, name: string) => Array.from({ length: n }, () => ({ split: name }));
      const index = {
        height: 64,
        width: 64,
        labels: ['a', 'b', 'c', 'd', 'e', 'f'],
        samples: [...split(100, 'train'), ...split(20, 'validation'), ...split(30, 'test')],
      } as unknown as Parameters<typeof finishCosts>[3]['index'];
      const data = { index, shape: { channels: 3 as const }, labelQuality: true };
      // 30 s for 3 epochs at 224 px: an epoch 10 s, a forward pass over one train image 10 / 3 / 100 s.
      const mobile = row(0, 'mobilenet_v2', 224, 30, { tta: 'mirror+gray' });
      const scratch = row(1, 'small_cnn_xs', 28, 6);
      const f = 10 / 3 / 100;
      const c = finishCosts([mobile, scratch], mobile, spec, data)!;
      // Three views over 30 test images, plus the latency runs.
      expect(c.test).toBeCloseTo(f * (30 * 3 + 24), 9);
      // NormLIME: 5 images per class (validation has 20), 64 samples each.
      expect(c.normLime).toEqual({ perImage: expect.closeTo(f * 64, 9) as number, images: 20 });
      // The held-out pass embeds the 64-px stored images at 128 px, not the winner's 224.
      const epochAt128 = 10 * (128 / 224) ** 2;
      expect(c.heldOut?.full).toBeCloseTo(epochAt128 * HELD_OUT_EPOCH_SHARE, 9);
      expect(c.heldOut?.light).toBeCloseTo(epochAt128 * HELD_OUT_LIGHT_EPOCH_SHARE, 9);
      // Not pretrained: no held-out pass; label quality off: none either.
      expect(finishCosts([mobile, scratch], scratch, spec, data)?.heldOut).toBeUndefined();
      expect(finishCosts([mobile], mobile, spec, { ...data, labelQuality: false })?.heldOut).toBeUndefined();
      expect(finishCosts([], undefined, spec, data)).toBeUndefined();
    });
  });
});
