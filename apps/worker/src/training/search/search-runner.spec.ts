import * as tf from '@tensorflow/tfjs';
import { initBackend, InMemoryArtifactStore, MemoryCheckpointStore, ModelZoo } from '@modelsmith/ml';
import type { DatasetShape } from '../recipe';
import { PermanentJobError } from '@modelsmith/jobs';
import { mutateArch, parseArch, proposeArch } from '@modelsmith/ml';
import {
  CONTINUATION,
  EVOLUTION,
  chosenTrial,
  estimateSeconds,
  evolutionHistory,
  finishCosts,
  forwardSeconds,
  keptTrialSeconds,
  tableCostPerPixel,
  trialStopAt,
  describeFinish,
  runDispatchedTrial,
  runSearch,
  type LedgerTrial,
  type TrialDispatcher,
  type SearchHooks,
  type SearchInput,
  type TrialLedger,
} from './search-runner';
import { HELD_OUT_FIRST_SHARE } from './finish-budget';
import { memoryLedger } from './memory-ledger';
import { candidateFromMetrics, replacesIncumbent } from './model-choice';
import { runImageClassification, WeightAverage } from '../image-classification';
import { buildRecipe } from '../recipe';

import { FIXTURE_SIZE, twoClassDataset } from './two-class-fixture';
const SIZE = FIXTURE_SIZE;
const dataset = twoClassDataset;

class BudgetEnd extends Error {}

/** Images passed through CountingLayer so far. */
const seen = { images: 0 };
/** A weighted identity layer that counts the images passed through it (backbone passes) in `seen`. */
class CountingLayer extends tf.layers.Layer {
  static readonly className = 'CountingLayerForSearchTest';
  private scale!: tf.LayerVariable;
  constructor() {
    super({ name: 'counting' });
  }
  override build(): void {
    this.scale = this.addWeight('scale', [1], 'float32', tf.initializers.ones());
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    seen.images += x.shape[0] ?? 0;
    return tf.mul(x, this.scale.read());
  }
}
// The search's final evaluation loads the exported model back.
tf.serialization.registerClass(CountingLayer);

describe('search runner (real training on a tiny dataset)', () => {
  const { index, pixels } = dataset();
  const shape: DatasetShape = { height: SIZE, width: SIZE, channels: 1, numClasses: 2, trainSamples: 36 };
  const store = new InMemoryArtifactStore();

  beforeAll(async () => {
    await initBackend(); // wasm: the pure-JS cpu backend would take minutes
  });

  function input(
    ledger: TrialLedger,
    checkpoints: MemoryCheckpointStore,
    prefix: string,
    asha = { minResource: 1, maxResource: 2, eta: 3 },
  ): SearchInput {
    return {
      index,
      shards: { get: () => Promise.resolve(pixels) },
      zoo: new ModelZoo(),
      shape,
      options: { seed: 3 },
      backbones: ['small_cnn_xs'],
      firstBackbone: 'small_cnn_xs',
      maxTrials: 4,
      asha,
      seed: 3,
      fit: 'fill',
      ledger,
      checkpoints,
      writer: store,
      reader: store,
      trialPrefix: (i) => `${prefix}/trials/${i}/`,
      modelPrefix: `${prefix}/model/`,
    };
  }

  function hooks(signal: AbortSignal, over: Partial<SearchHooks> = {}): SearchHooks {
    return {
      signal,
      isBudgetStop: (r) => r instanceof BudgetEnd,
      onProgress: () => Promise.resolve(),
      onEpoch: () => Promise.resolve(),
      onTrial: () => Promise.resolve(),
      onBest: () => Promise.resolve(),
      ...over,
    };
  }

  it('resumes after a crash without re-running a finished trial; the model is the best on validation, tested once', async () => {
    const ledger = memoryLedger();
    const checkpoints = new MemoryCheckpointStore();
    const crash = new Error('worker killed');
    await expect(
      runSearch(
        input(ledger, checkpoints, 'a'),
        hooks(new AbortController().signal, {
          onTrial: (t) =>
            t.index === 2 && t.status === 'RUNNING' ? Promise.reject(crash) : Promise.resolve(),
        }),
      ),
    ).rejects.toBe(crash);
    expect(ledger.rows.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'RUNNING']);
    const before = ledger.rows.slice(0, 2).map((r) => ({ ...r }));

    const bests: Array<{ trial: number; split: string; final: boolean }> = [];
    const r = await runSearch(
      input(ledger, checkpoints, 'a'),
      hooks(new AbortController().signal, {
        onBest: (b) =>
          Promise.resolve(void bests.push({ trial: b.trial, split: b.report.split, final: b.final })),
      }),
    );
    expect(r.ran).toEqual([2, 3]);
    expect(r.resumedTrial).toBe(2);
    expect(ledger.rows.slice(0, 2)).toEqual(before);
    expect(ledger.finishes).toEqual([0, 1, 2, 3]);
    // Three configurations at 1 epoch, then the best promoted to 2.
    expect(ledger.rows.map((t) => t.params.rung)).toEqual([0, 0, 0, 1]);
    const val = (t: LedgerTrial) => t.metrics?.validationAccuracy as number;
    // The model: in trial order, a later trial replaces the incumbent only when clearly better on the
    // same validation images (model-choice.ts); every trial recorded its per-image results.
    expect(ledger.rows.every((t) => typeof t.metrics?.validationCorrect === 'string')).toBe(true);
    expect(
      ledger.rows.every((t) => t.metrics?.validationImages === ledger.rows[0].metrics?.validationImages),
    ).toBe(true);
    const best = chosenTrial(ledger.rows)!;
    expect(r.best.trial).toBe(best.index);
    // Only the final model is evaluated on test; every earlier best was on validation.
    expect(bests[bests.length - 1]).toEqual({ trial: best.index, split: 'test', final: true });
    expect(bests.slice(0, -1).every((b) => b.split === 'validation' && !b.final)).toBe(true);
    expect(r.best.report.numSamples).toBe(12);
    expect(r.best.manifest.metrics.validationAccuracy).toBeCloseTo(val(best), 9);
  });

  it('budget end: a cut first trial is kept as the model; a later cut trial is PRUNED and the best so far kept', async () => {
    // Trials of 2 epochs (warm-up + main phase); the budget ends at the first epoch's end report.
    const twoEpochs = { minResource: 2, maxResource: 2, eta: 3 };
    const first = memoryLedger();
    const c1 = new AbortController();
    const r1 = await runSearch(
      input(first, new MemoryCheckpointStore(), 'b', twoEpochs),
      hooks(c1.signal, { onProgress: () => Promise.resolve(c1.abort(new BudgetEnd())) }),
    );
    expect(r1.status).toBe('stopped-by-budget');
    expect(first.rows).toHaveLength(1);
    expect(first.rows[0]).toMatchObject({ status: 'SUCCEEDED', metrics: { stopped: 'budget' } });
    expect(r1.best).toMatchObject({ trial: 0, final: true, report: { split: 'test' } });

    const later = memoryLedger();
    const c2 = new AbortController();
    const r2 = await runSearch(
      input(later, new MemoryCheckpointStore(), 'c', twoEpochs),
      hooks(c2.signal, {
        onProgress: (p) => Promise.resolve(p.trial === 1 ? c2.abort(new BudgetEnd()) : undefined),
      }),
    );
    expect(r2.status).toBe('stopped-by-budget');
    expect(later.rows.map((t) => t.status)).toEqual(['SUCCEEDED', 'PRUNED']);
    expect(r2.best.trial).toBe(0);
  });

  it('a deadline: trials are planned with the after-search steps of the best so far set aside, which are accounted', async () => {
    // The budget's clock moves 1 s per progress report (one per epoch here; the steps after the
    // trials make none): 12 trials would take 15 s.
    let t = 0;
    const ledger = memoryLedger();
    const r = await runSearch(
      { ...input(ledger, new MemoryCheckpointStore(), 'dl'), maxTrials: 12, deadline: 8_000, now: () => t },
      hooks(new AbortController().signal, { onProgress: () => Promise.resolve(void (t += 1000)) }),
    );
    const winner = r.trials.find((x) => x.index === r.best.trial);
    const zoo = new ModelZoo();
    const costs = finishCosts(r.trials, winner, (id) => zoo.get(id), { index, shape, labelQuality: true })!;
    expect(costs.test).toBeGreaterThan(0);
    expect(r.finish.budgetSeconds).toBe(8);
    // The test evaluation and NormLIME within 15% of the budget (1.2 s: two images).
    expect(r.finish.reservedSeconds).toBeCloseTo(costs.test + 2 * costs.normLime!.perImage, 6);
    // No trial started that would eat into the reserve; the search ended with it left.
    expect(r.status).toBe('completed');
    expect(r.trials.length).toBeLessThan(12);
    expect(r.finish.leftSeconds).toBeGreaterThanOrEqual(r.finish.reservedSeconds);
    expect(r.best).toMatchObject({ final: true, report: { split: 'test' } });
    // Sized after the test evaluation: NormLIME on the images that fit in what was left.
    expect(r.finish.plan?.normLime).toMatchObject({
      images: Math.min(costs.normLime!.images, Math.floor(r.finish.leftSeconds! / costs.normLime!.perImage)),
    });
    expect(r.finish.seconds).toEqual({ test: 0, heldOut: 0, normLime: 0 });
  });

  /** Dispatched trials trained in this process, `slots` at a time, as trial-queue workers would. */
  function localQueue(
    si: () => SearchInput,
    h: () => SearchHooks,
    slots: number,
    over: Partial<TrialDispatcher> = {},
  ): TrialDispatcher & { peak: number; dispatched: number[]; abandoned: number[]; done: Promise<unknown>[] } {
    let running = 0;
    const q = {
      peak: 0,
      dispatched: [] as number[],
      abandoned: [] as number[],
      done: [] as Promise<unknown>[],
      pollMs: 20,
      slots: () => Promise.resolve(slots),
      state: () => Promise.resolve('running' as const),
      abandon: (ids: number[]) => Promise.resolve(void q.abandoned.push(...ids)),
      dispatch: (i: number) => {
        if (q.dispatched.includes(i)) return Promise.resolve();
        q.dispatched.push(i);
        running++;
        q.peak = Math.max(q.peak, running);
        q.done.push(
          runDispatchedTrial(si(), h(), i)
            .catch(() => undefined)
            .finally(() => running--),
        );
        return Promise.resolve();
      },
      ...over,
    };
    return q;
  }

  it('dispatched trials: two in flight at once, each recorded once, ASHA promotes from the ledger, best on validation', async () => {
    const ledger = memoryLedger();
    const base = input(ledger, new MemoryCheckpointStore(), 'p');
    const h = hooks(new AbortController().signal);
    let waited = 0;
    const q = localQueue(
      () => base,
      () => h,
      2,
      { waited: (sec) => Promise.resolve(void (waited += sec)) },
    );
    const bests: number[] = [];
    const t0 = Date.now();
    const r = await runSearch(
      { ...base, dispatcher: q },
      { ...h, onBest: (b) => Promise.resolve(void bests.push(b.trial)) },
    );
    const wall = (Date.now() - t0) / 1000;
    await Promise.all(q.done);
    // The search's own waiting is reported (not charged twice): some of its time, never more than all.
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThanOrEqual(wall + 0.05);
    expect(q.peak).toBe(2);
    expect(q.dispatched).toEqual([0, 1, 2, 3]);
    expect([...ledger.finishes].sort()).toEqual([0, 1, 2, 3]);
    expect(ledger.rows.every((t) => t.status === 'SUCCEEDED')).toBe(true);
    expect(r.ran.sort()).toEqual([0, 1, 2, 3]);
    // Trials 0 and 1 start together; once three finished at 1 epoch, the best of them is promoted.
    const rung1 = ledger.rows.filter((t) => t.params.rung === 1);
    expect(rung1.length).toBeLessThanOrEqual(1);
    const best = chosenTrial(ledger.rows)!;
    expect(r.best).toMatchObject({ trial: best.index, final: true, report: { split: 'test' } });
    expect(bests[bests.length - 1]).toBe(best.index);
  });

  it('dispatched trials: a cancel removes the trials that did not start and ends the search', async () => {
    const ledger = memoryLedger();
    const base = input(ledger, new MemoryCheckpointStore(), 'q');
    const c = new AbortController();
    const cancelled = new Error('cancelled');
    const h = hooks(c.signal);
    // One worker slot busy elsewhere: trials wait in the queue (never started) until the cancel.
    const q = localQueue(
      () => base,
      () => h,
      2,
      {
        dispatch: (i) => {
          if (i === 1) setTimeout(() => c.abort(cancelled), 50);
          return Promise.resolve();
        },
      },
    );
    await expect(runSearch({ ...base, dispatcher: q }, h)).rejects.toBe(cancelled);
    expect(q.abandoned).toEqual([0, 1]);
    expect(ledger.rows.map((t) => t.status)).toEqual(['PRUNED', 'PRUNED']);
  });

  it('dispatched trials: a worker that lost a trial to another claim exports elsewhere, never over the recorded model', async () => {
    const ledger = memoryLedger();
    const base = { ...input(ledger, new MemoryCheckpointStore(), 'l'), maxTrials: 1 };
    const h = hooks(new AbortController().signal);
    const q = localQueue(
      () => base,
      () => h,
      1,
    );
    await runSearch({ ...base, dispatcher: q }, h);
    await Promise.all(q.done);
    const recorded = ledger.rows[0].artifactPrefix;
    expect(recorded).toMatch(/^l\/trials\/0\/runs\/[0-9a-f-]{36}\/$/);
    const files = () =>
      new Map(
        store
          .keys()
          .filter((k) => k.startsWith(recorded!))
          .map((k) => [k, store.get(k)]),
      );
    const before = files();
    expect([...before.keys()].some((k) => k.endsWith('model.json'))).toBe(true);
    // The starved worker still trains trial 0 (its row looks RUNNING to it) and exports at the end,
    // but the ledger refuses its finish: the other worker's claim holds the trial.
    ledger.rows[0].status = 'RUNNING';
    const lost: TrialLedger = { ...ledger, finish: () => Promise.resolve(false) };
    await expect(runDispatchedTrial({ ...base, ledger: lost }, h, 0)).resolves.toBe('skipped');
    expect(ledger.rows[0].artifactPrefix).toBe(recorded);
    const after = files();
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [k, v] of before)
      expect(Buffer.from(await after.get(k)!).equals(Buffer.from(await v))).toBe(true);
    const runs = new Set(
      store
        .keys()
        .filter((k) => k.startsWith('l/trials/0/runs/'))
        .map((k) => k.split('/')[4]),
    );
    expect(runs.size).toBe(2);
  });

  it('architecture search: nas_cnn trials evolve from the recorded ones; only the winner and the Pareto front keep their files', async () => {
    const ledger = memoryLedger();
    const removed: number[] = [];
    const base = input(ledger, new MemoryCheckpointStore(), 'd', { minResource: 1, maxResource: 1, eta: 3 });
    const r = await runSearch(
      {
        ...base,
        backbones: ['nas_cnn'],
        firstBackbone: 'nas_cnn',
        maxTrials: 5,
        removeTrialModel: (i) => {
          for (const k of store.keys()) if (k.startsWith(base.trialPrefix(i))) store.delete(k);
          removed.push(i);
          return Promise.resolve();
        },
      },
      hooks(new AbortController().signal),
    );
    const rows = ledger.rows;
    expect(rows.map((t) => t.status)).toEqual(Array(5).fill('SUCCEEDED'));
    for (const t of rows) {
      expect(() => parseArch(String(t.params.arch))).not.toThrow();
      expect(t.metrics).toMatchObject({
        latencyMs: expect.any(Number),
        cpuMsPerImage: expect.any(Number),
        modelMB: expect.any(Number),
        params: expect.any(Number),
        macs: expect.any(Number),
      });
    }
    // Once EVOLUTION.population architectures finished, each new one is a mutation of one of them.
    for (let i = EVOLUTION.population; i < 5; i++) {
      const p = proposeArch(evolutionHistory(rows.slice(0, i)), { ...EVOLUTION, seed: 3 }, i);
      expect(p.parent).toBeDefined();
      expect(rows[i].params.arch).toBe(p.arch);
      expect(p.arch).toBe(mutateArch(String(rows[p.parent!].params.arch), 3, i));
    }
    // The front: nobody beats a member on accuracy, CPU ms per image and size at once; every trial off it
    // (and not the winner) had its files deleted.
    const front = r.best.pareto!;
    expect(front.length).toBeGreaterThan(0);
    const m = (t: LedgerTrial, k: string) => t.metrics![k] as number;
    for (const f of front)
      expect(
        rows.some(
          (t) =>
            m(t, 'validationAccuracy') >= f.validationAccuracy &&
            m(t, 'cpuMsPerImage') <= f.cpuMsPerImage! &&
            m(t, 'modelMB') <= f.modelMB &&
            (m(t, 'validationAccuracy') > f.validationAccuracy ||
              m(t, 'cpuMsPerImage') < f.cpuMsPerImage! ||
              m(t, 'modelMB') < f.modelMB),
        ),
      ).toBe(false);
    // The job's model is the winner's: same weight bytes as its trial's export.
    const weights = (prefix: string) =>
      store
        .keys()
        .filter((k) => k.startsWith(prefix) && k.endsWith('.bin'))
        .map((k) => k.slice(prefix.length));
    expect(weights(base.modelPrefix)).toEqual(weights(base.trialPrefix(r.best.trial)));
    for (const w of weights(base.modelPrefix))
      expect(
        Buffer.from(await store.get(base.modelPrefix + w)).equals(
          Buffer.from(await store.get(base.trialPrefix(r.best.trial) + w)),
        ),
      ).toBe(true);
    const kept = new Set([r.best.trial, ...front.map((f) => f.trial)]);
    expect(removed.sort()).toEqual(rows.map((t) => t.index).filter((i) => !kept.has(i)));
    for (const t of rows) {
      const files = store.keys().filter((k) => k.startsWith(base.trialPrefix(t.index)));
      expect(files.length > 0).toBe(kept.has(t.index));
      expect(t.artifactPrefix !== null).toBe(kept.has(t.index));
    }
  });

  it('constraints: a model over maxModelMB is never chosen; none fitting fails the search for good', async () => {
    const ledger = memoryLedger();
    const base = input(ledger, new MemoryCheckpointStore(), 'e', { minResource: 1, maxResource: 1, eta: 3 });
    const error = await runSearch(
      { ...base, maxTrials: 2, constraints: { maxModelMB: 0.001 } },
      hooks(new AbortController().signal),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentJobError);
    expect(error).toMatchObject({ code: 'NO_TRIAL_MEETS_CONSTRAINTS' });
    expect(ledger.rows.map((t) => t.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it('defaultTrial: trial 1 is the default recipe itself (same model as a fixed balanced job), at the top rung', async () => {
    const ledger = memoryLedger();
    const options = { seed: 3, epochs: 2 };
    const r = await runSearch(
      { ...input(ledger, new MemoryCheckpointStore(), 'd'), options, maxTrials: 3, defaultTrial: true },
      hooks(new AbortController().signal),
    );
    const rows = ledger.rows;
    expect(rows.map((t) => [t.status, t.params.rung, t.params.defaultRecipe ?? false])).toEqual([
      ['SUCCEEDED', 0, false],
      ['SUCCEEDED', 1, true],
      ['SUCCEEDED', 0, false],
    ]);
    expect(rows[1].params).toMatchObject({ backbone: 'small_cnn_xs', epochs: 2, inputSize: SIZE });
    // The fixed job's pipeline with buildRecipe's recipe trains the same model (validation scored).
    const zoo = new ModelZoo();
    const spec = zoo.get('small_cnn_xs');
    const fixed = await runImageClassification(
      {
        index,
        shards: { get: () => Promise.resolve(pixels) },
        zoo,
        spec,
        recipe: buildRecipe(spec, shape, 'balanced', options),
        checkpoints: new MemoryCheckpointStore(),
        writer: new InMemoryArtifactStore(),
        modelPrefix: 'fixed/',
        fit: 'fill',
        evaluateOn: 'validation',
        interpret: false,
      },
      {
        signal: new AbortController().signal,
        keepModelOnStop: () => false,
        onProgress: () => Promise.resolve(),
        onEpoch: () => Promise.resolve(),
        onModel: () => Promise.resolve(),
      },
    );
    expect(rows[1].metrics?.validationLoss).toBeCloseTo(fixed.model.report.logLoss, 5);
    expect(rows[1].metrics?.validationAccuracy).toBeCloseTo(fixed.model.report.accuracy, 9);
    // The search's choice is never clearly below it on validation: the default recipe's trial would
    // have replaced an incumbent it clearly beat (model-choice.ts), and a later replacement beat it too.
    const chosen = rows.find((t) => t.index === r.best.trial)!;
    const cand = (t: LedgerTrial) =>
      candidateFromMetrics(
        t.index,
        t.params.rung as number,
        t.metrics!.validationAccuracy as number,
        t.metrics,
      );
    if (chosen.index !== 1) expect(replacesIncumbent(cand(rows[1]), cand(chosen))).toBe(false);
  });

  it('a head-only first trial is followed by the same head on the image + mirror (+ gray) views, never promoted', async () => {
    // A pretrained stand-in backbone (a counting layer, flattened): trial 0 is a head on its frozen
    // features, and trial 1 the same head trained on the train split's views (a grayscale dataset:
    // image + mirror) trying test-time averaging over the mirror.
    const base = new ModelZoo().get('small_cnn_xs');
    const spec = {
      ...base,
      id: 'test_pretrained',
      pretrained: true,
      input: { height: SIZE, width: SIZE, channels: 1 as const },
    };
    const zoo = {
      get: () => spec,
      load: async () => {
        const x = tf.input({ shape: [SIZE, SIZE, 1] });
        const features = tf.layers.flatten().apply(new CountingLayer().apply(x)) as tf.SymbolicTensor;
        return { spec, input: spec.input, model: tf.model({ inputs: x, outputs: features }) };
      },
    } as unknown as ModelZoo;
    const ledger = memoryLedger();
    const imagesBefore: number[] = [];
    await runSearch(
      {
        ...input(ledger, new MemoryCheckpointStore(), 'v'),
        zoo,
        backbones: ['test_pretrained'],
        firstBackbone: 'test_pretrained',
        maxTrials: 3,
        labelQuality: false,
      },
      hooks(new AbortController().signal, {
        onTrial: (t) => Promise.resolve(void (t.status === 'RUNNING' && imagesBefore.push(seen.images))),
      }),
    );
    const rows = ledger.rows;
    expect(
      rows.map((t) => [t.status, t.params.rung, t.params.headOnly ?? false, t.params.headViews ?? false]),
    ).toEqual([
      ['SUCCEEDED', 0, true, false],
      ['SUCCEEDED', 0, true, true],
      ['SUCCEEDED', 0, false, false],
    ]);
    expect(rows[1].params).toMatchObject({
      inputSize: rows[0].params.inputSize,
      learningRate: rows[0].params.learningRate,
      epochs: rows[0].params.epochs,
    });
    // Trial 1's head saw 36 train images per view (image, mirror) where trial 0's saw them once:
    // 36 more backbone images, the rest of the two trials' passes (validation, averaging) alike.
    const t0 = imagesBefore[1] - imagesBefore[0];
    const t1 = imagesBefore[2] - imagesBefore[1];
    expect(t1 - t0).toBe(36);
    // It tried test-time averaging over the mirror on validation (kept or not by the rule).
    expect(rows[1].metrics).toMatchObject({ validationAccuracyTta: expect.any(Number) });
    // Not an ASHA configuration: the third trial is a new configuration, not its promotion.
    expect(rows[2].params.config).toBe(2);
  });

  it('continuation: the best trial continues from its weights (averaged epochs), resumes after a crash to the same model', async () => {
    const options = { seed: 3, epochs: 2 };
    const search = (
      ledger: TrialLedger,
      checkpoints: MemoryCheckpointStore,
      over: Partial<SearchHooks> = {},
    ) =>
      runSearch(
        {
          ...input(ledger, checkpoints, 'c'),
          options,
          maxTrials: 3,
          defaultTrial: true,
          continuation: true,
        },
        hooks(new AbortController().signal, over),
      );
    const ledger = memoryLedger();
    const epochs: number[] = [];
    const r = await search(ledger, new MemoryCheckpointStore(), {
      onEpoch: (trial, phase, log) => Promise.resolve(void (trial === 2 && epochs.push(log.epoch))),
    });
    const rows = ledger.rows;
    // Trial 2 continues the job's model after the first two (model-choice.ts).
    const parent = chosenTrial(rows.slice(0, 2))!.index;
    expect(rows.map((t) => t.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(rows[2].params).toMatchObject({
      continuationOf: parent,
      rung: rows[parent].params.rung,
      epochs: CONTINUATION.epochs,
      backbone: rows[parent].params.backbone,
      batchSize: rows[parent].params.batchSize,
    });
    expect(rows[2].params.defaultRecipe).toBeUndefined();
    expect(epochs).toEqual([0, 1, 2]);
    expect(rows[2].metrics?.epochs).toBe(CONTINUATION.epochs);
    // Chosen only when clearly better on validation than its parent (model-choice.ts).
    const continued = rows[2].metrics!.validationAccuracy as number;
    expect(r.best.trial).toBe(chosenTrial(rows)!.index);
    expect([2, parent]).toContain(r.best.trial);
    // The warm start takes trial 1's weights as they are: at a learning rate of ~0 the averaged
    // epochs leave them unchanged, so validation scores exactly as trial 1 did.
    const zoo = new ModelZoo();
    const spec = zoo.get('small_cnn_xs');
    const still = await runImageClassification(
      {
        index,
        shards: { get: () => Promise.resolve(pixels) },
        zoo,
        spec,
        recipe: {
          ...buildRecipe(spec, shape, 'balanced', options),
          swa: { epochs: 2, learningRateFactor: 1e-12 },
        },
        checkpoints: new MemoryCheckpointStore(),
        writer: new InMemoryArtifactStore(),
        modelPrefix: 'still/',
        fit: 'fill',
        evaluateOn: 'validation',
        interpret: false,
        warmStart: { reader: store, prefix: rows[1].artifactPrefix! },
      },
      {
        signal: new AbortController().signal,
        keepModelOnStop: () => false,
        onProgress: () => Promise.resolve(),
        onEpoch: () => Promise.resolve(),
        onModel: () => Promise.resolve(),
      },
    );
    expect(still.history.map((h) => h.phase)).toEqual(['swa', 'swa']);
    expect(still.model.report.logLoss).toBeCloseTo(rows[1].metrics!.validationLoss as number, 5);

    // Killed after its second epoch (trained and checkpointed, not yet averaged): the resumed trial
    // ends with the same averaged model as the uninterrupted one.
    const crashed = memoryLedger();
    const checkpoints = new MemoryCheckpointStore();
    const crash = new Error('worker killed');
    await expect(
      search(crashed, checkpoints, {
        onEpoch: (trial, phase, log) =>
          trial === 2 && phase === 'swa' && log.epoch === 1 ? Promise.reject(crash) : Promise.resolve(),
      }),
    ).rejects.toBe(crash);
    expect(crashed.rows.map((t) => t.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'RUNNING']);
    const resumed = await search(crashed, checkpoints);
    expect(resumed.resumedTrial).toBe(2);
    expect(crashed.rows[2].metrics?.validationLoss).toBeCloseTo(rows[2].metrics!.validationLoss as number, 5);
    expect(crashed.rows[2].metrics?.validationAccuracy).toBeCloseTo(continued, 9);
  });

  it('continuation: keeps its parent configuration number, so the search draws the same configurations as without it', async () => {
    const options = { seed: 3, epochs: 2 };
    const search = (ledger: TrialLedger, continuation: boolean, maxTrials: number) =>
      runSearch(
        {
          ...input(ledger, new MemoryCheckpointStore(), `k${continuation}`),
          options,
          maxTrials,
          defaultTrial: true,
          continuation,
        },
        hooks(new AbortController().signal),
      );
    const without = memoryLedger();
    await search(without, false, 3);
    const withIt = memoryLedger();
    await search(withIt, true, 4);
    const cont = withIt.rows.find((t) => t.params.continuationOf !== undefined)!;
    expect(cont.index).toBe(2);
    const parent = withIt.rows[Number(cont.params.continuationOf)];
    expect(cont.params.config).toBe(parent.params.config);
    // The trial after it is the configuration the search without continuations drew third
    // (config 2, a new draw): the continuation only came before it.
    const drawn = (rows: LedgerTrial[]) =>
      rows.filter((t) => t.params.continuationOf === undefined).map((t) => t.params);
    expect(without.rows[2].params).toMatchObject({ config: 2, rung: 0 });
    expect(drawn(withIt.rows)).toEqual(drawn(without.rows));
  });

  it('WeightAverage: the running mean of its snapshots survives an encode/decode round trip', () => {
    const a = new WeightAverage([[2], [1, 2]]);
    a.add([new Float32Array([1, 2]), new Float32Array([3, 4])]);
    a.add([new Float32Array([3, 6]), new Float32Array([5, 0])]);
    const b = new WeightAverage([[2], [1, 2]]);
    b.decode(a.encode());
    expect(b.count).toBe(2);
    expect([...b.values[0], ...b.values[1]]).toEqual([2, 4, 4, 2]);
    const other = new WeightAverage([[3]]);
    other.decode(a.encode());
    expect(other.count).toBe(0);
  });
});

describe('the budget accounting of trials (pure logic)', () => {
  const zoo = new ModelZoo();
  const spec = (id: string) => zoo.get(id);
  const row = (
    index: number,
    params: Record<string, string | number | boolean>,
    costSeconds: number,
    epochs = 1,
  ): LedgerTrial => ({
    index,
    status: 'SUCCEEDED',
    params: { config: index, rung: 0, epochs, ...params },
    metrics: { validationAccuracy: 0.5, epochs },
    costSeconds,
    artifactPrefix: `p${index}/`,
  });
  // 300 train, 100 validation, 50 test images of 64 px, 4 classes.
  const split = (n: number, name: string) => Array.from({ length: n }, () => ({ split: name }));
  const index = {
    height: 64,
    width: 64,
    labels: ['a', 'b', 'c', 'd'],
    samples: [...split(300, 'train'), ...split(100, 'validation'), ...split(50, 'test')],
  } as unknown as Parameters<typeof finishCosts>[3]['index'];
  const shape = { height: 64, width: 64, channels: 3 } as DatasetShape;
  const deadline = 1_000_000;

  it('estimates a backbone no trial has measured from a measured one by their relative cost, not as free', () => {
    // small_cnn_m: 6 s per epoch at 28 px (the median of three trials).
    const small = [
      row(0, { backbone: 'small_cnn_m', inputSize: 28 }, 7),
      row(1, { backbone: 'small_cnn_m', inputSize: 28 }, 72, 12),
      row(2, { backbone: 'small_cnn_m', inputSize: 28 }, 18, 3),
    ];
    const c = { backbone: 'mobilenet_v2', inputSize: 64 } as Parameters<typeof estimateSeconds>[1];
    const ratio = tableCostPerPixel('mobilenet_v2')! / tableCostPerPixel('small_cnn_m')!;
    // MobileNetV2 costs about half as much per pixel in the table (3.7 images/s at 224 px vs 22 at 64).
    expect(ratio).toBeGreaterThan(0.45);
    expect(ratio).toBeLessThan(0.5);
    expect(estimateSeconds(small, c, 1)).toBeCloseTo(6 * (64 / 28) ** 2 * ratio, 9);
    // Once it has a measurement of its own, that is used.
    const mobile = row(3, { backbone: 'mobilenet_v2', inputSize: 64 }, 30);
    expect(estimateSeconds([...small, mobile], c, 2)).toBeCloseTo(60, 9);
    // A backbone not in the table: the costliest measured trial per pixel (here 7 s per epoch at 28 px).
    const nas = { backbone: 'nas_cnn', inputSize: 28 } as Parameters<typeof estimateSeconds>[1];
    expect(estimateSeconds(small, nas, 1)).toBeCloseTo(7, 9);
    expect(estimateSeconds([], c, 1)).toBeUndefined();
  });

  it("counts a head-only trial's pass over the validation images in its measured cost", () => {
    // A head-only trial of 40 s: one pass over 300 train and 100 validation images, 0.1 s each.
    const head = row(0, { backbone: 'mobilenet_v2', inputSize: 128, headOnly: true }, 40, 3);
    expect(forwardSeconds([head], 'mobilenet_v2', 128, index)).toBeCloseTo(0.1, 9);
    const costs = finishCosts([head], head, spec, { index, shape, labelQuality: false })!;
    // The test evaluation: 50 test images plus the latency runs (before: 40 / 300 s each, 4/3 as much).
    expect(costs.test).toBeCloseTo(0.1 * (50 + 24), 9);
    // The planning of a new head-only trial is unchanged (train passes only): 40 s for one pass.
    const c = { backbone: 'mobilenet_v2', inputSize: 128 } as Parameters<typeof estimateSeconds>[1];
    expect(estimateSeconds([head], c, 1 / 3)).toBeCloseTo(40, 9);
  });

  it('stops a trial whose model is kept early enough for its own evaluation and the larger test evaluation', () => {
    // small_cnn_m: 30 s per epoch at 32 px, so a forward pass over one train image 30 / 3 / 300 = 1/30 s.
    const first = row(0, { backbone: 'small_cnn_m', inputSize: 32 }, 30);
    const input = { deadline, index, shape, labelQuality: false };
    const f = 1 / 30;
    const own = keptTrialSeconds([first], { backbone: 'small_cnn_m', inputSize: 32 }, index)!;
    expect(own.evaluate).toBeCloseTo(f * (100 + 24), 9);
    expect(own.test).toBeCloseTo(f * (50 + 24), 9);
    const testOfBest = finishCosts([first], first, spec, { index, shape, labelQuality: false })!.test;
    expect(testOfBest).toBeCloseTo(f * (50 + 24), 9);
    const searched = { backbone: 'small_cnn_m', inputSize: 32 } as Parameters<typeof trialStopAt>[4];
    // A searched trial's model is dropped at its stop: only the best trial's test evaluation is left.
    expect(trialStopAt(input, [first], first, spec, searched, 3600)).toBeCloseTo(
      deadline - 1000 * testOfBest,
      6,
    );
    // The default recipe's is kept: its validation evaluation is left too, and its own test evaluation
    // (at 64 px, four times the best's) should it become the model.
    const d = { ...searched, inputSize: 64, defaultRecipe: true } as Parameters<typeof trialStopAt>[4];
    const ownD = keptTrialSeconds([first], d, index)!;
    expect(ownD.test).toBeCloseTo(4 * testOfBest, 9);
    expect(trialStopAt(input, [first], first, spec, d, 3600)).toBeCloseTo(
      deadline - 1000 * (ownD.test + ownD.evaluate),
      6,
    );
    // No deadline: never.
    expect(trialStopAt({ ...input, deadline: undefined }, [first], first, spec, d, 3600)).toBe(Infinity);
  });

  it("stops a trial early enough for the pretrained best trial's light held-out pass too, within its share", () => {
    // MobileNetV2 at 128 px: 30 s per epoch. With label quality the best trial's light held-out pass
    // is set aside besides its test evaluation, unless it exceeds HELD_OUT_FIRST_SHARE of the budget.
    const best = row(0, { backbone: 'mobilenet_v2', inputSize: 128 }, 30);
    const searched = { backbone: 'small_cnn_m', inputSize: 32 } as Parameters<typeof trialStopAt>[4];
    const withLq = { deadline, index, shape, labelQuality: true };
    const costs = finishCosts([best], best, spec, { index, shape, labelQuality: true })!;
    const light = costs.heldOut!.light;
    expect(light).toBeGreaterThan(0);
    expect(trialStopAt(withLq, [best], best, spec, searched, 3600)).toBeCloseTo(
      deadline - 1000 * (costs.test + light),
      6,
    );
    // A budget where the light pass would take more than its share: the test evaluation only.
    const small = (0.99 * light) / HELD_OUT_FIRST_SHARE;
    expect(trialStopAt(withLq, [best], best, spec, searched, small)).toBeCloseTo(
      deadline - 1000 * costs.test,
      6,
    );
    expect(trialStopAt({ ...withLq, labelQuality: false }, [best], best, spec, searched, 3600)).toBeCloseTo(
      deadline - 1000 * costs.test,
      6,
    );
    // A scratch best trial gets no held-out pass: nothing more is set aside.
    const scratch = row(0, { backbone: 'small_cnn_m', inputSize: 32 }, 30);
    const scratchTest = finishCosts([scratch], scratch, spec, { index, shape, labelQuality: true })!.test;
    expect(trialStopAt(withLq, [scratch], scratch, spec, searched, 3600)).toBeCloseTo(
      deadline - 1000 * scratchTest,
      6,
    );
  });

  it("describes the steps after the trials for the worker's log: given, estimated and spent", () => {
    const line = describeFinish({
      budgetSeconds: 120,
      leftSeconds: 24.08,
      reservedSeconds: 18.3,
      plan: {
        test: 0,
        heldOut: { form: 'light', seconds: 12.1 },
        normLime: { skipped: 'one image (estimated 2.0 s) did not fit in the 1.0 s the budget left for it' },
        seconds: 12.1,
      },
      seconds: { test: 3.21, heldOut: 9.8, normLime: 0 },
    });
    expect(line).toBe(
      'budget 120.0 s, 24.1 s left after the trials (18.3 s reserved); test 3.2 s; held-out light 9.8 s ' +
        '(estimated 12.1 s); NormLIME skipped (one image (estimated 2.0 s) did not fit in the 1.0 s the budget left for it)',
    );
    expect(
      describeFinish({
        budgetSeconds: Infinity,
        leftSeconds: null,
        reservedSeconds: 0,
        seconds: { test: 1, heldOut: 2, normLime: 3 },
      }),
    ).toBe('no deadline; test 1.0 s; held-out 2.0 s; NormLIME 3.0 s');
  });
});
