import * as tf from '@tensorflow/tfjs';
import { CheckpointError, TrainConfigError, freezeLayers, orderedWeights, trainableFlags } from '.';
import { tinyMlp, weightValues } from './test-helpers';
import { TrainingState } from './training-state';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const weightsOf = (m: tf.LayersModel) => orderedWeights(m).map((o) => o.weight);

/** A state part-way through a run: a step, a closed epoch, best weights, optimizer slots, RNG draws. */
function advancedState(model: tf.LayersModel): TrainingState {
  const s = new TrainingState(5, { type: 'adam' });
  s.recordStep({ loss: 2, correct: 3, n: 4 }, 0.5);
  s.closeEpoch({ epoch: 0, loss: 2, accuracy: 0.75, lr: 0.01, steps: 1, samples: 4, seconds: 0.5 });
  s.recordStep({ loss: 1, correct: 1, n: 2 }, 0.25);
  s.early = { best: 2, bestEpoch: 0, wait: 0 };
  s.keepBestWeights(weightsOf(model));
  const params = weightsOf(model).map((w, key) => ({
    key,
    variable: w.read() as tf.Variable,
    lr: 0.01,
    weightDecay: 0,
  }));
  s.optimizer.apply(
    params,
    params.map((p) => tf.onesLike(p.variable)),
  );
  s.rng.next();
  return s;
}

describe('TrainingState', () => {
  it('records steps into the epoch in progress and closes epochs into the history', () => {
    const s = new TrainingState(0, { type: 'sgd' });
    s.recordStep({ loss: 2, correct: 3, n: 4 }, 0.5);
    s.recordStep({ loss: 1, correct: 2, n: 2 }, 0.25);
    expect(s.position).toEqual({ epoch: 0, step: 2, globalStep: 2 });
    expect(s.accum).toEqual({ steps: 2, lossSum: 10, correct: 5, samples: 6, seconds: 0.75 });
    s.closeEpoch({ epoch: 0, loss: 10 / 6, accuracy: 5 / 6, lr: 1, steps: 2, samples: 6, seconds: 0.75 });
    expect(s.position).toEqual({ epoch: 1, step: 0, globalStep: 2 });
    expect(s.accum.samples).toBe(0);
    expect(s.history.map((h) => h.epoch)).toEqual([0]);
    s.dispose();
  });

  it('restores into a new model everything toCheckpoint took, and a resumed RNG continues the sequence', () => {
    const m = tinyMlp(1);
    freezeLayers(m, ['hidden']);
    const s = advancedState(m);
    const c = s.toCheckpoint(m, weightsOf(m));
    const nextDraw = s.rng.next();

    const fresh = tinyMlp(2); // initialised differently, nothing frozen
    const before = tf.memory().numTensors;
    const r = new TrainingState(5, { type: 'adam' });
    r.restore(c, fresh, weightsOf(fresh));
    expect(weightValues(fresh)).toEqual(weightValues(m));
    expect(trainableFlags(fresh)).toEqual(trainableFlags(m));
    expect(r.position).toEqual(s.position);
    expect(r.history).toEqual(s.history);
    expect(r.accum).toEqual(s.accum);
    expect(r.early).toEqual(s.early);
    expect(r.bestWeights!.map((t) => Array.from(t.dataSync()))).toEqual(
      s.bestWeights!.map((t) => Array.from(t.dataSync())),
    );
    expect(r.optimizer.numSlotTensors).toBe(s.optimizer.numSlotTensors);
    expect(r.rng.next()).toBe(nextDraw);
    r.dispose();
    expect(tf.memory().numTensors).toBe(before); // restore's temporaries are freed; dispose frees the rest
    s.dispose();
    m.dispose();
    fresh.dispose();
  });

  it('refuses a checkpoint of another seed, model or optimizer and leaves the model as it was', () => {
    const m = tinyMlp(1);
    const s = advancedState(m);
    const c = s.toCheckpoint(m, weightsOf(m));
    s.dispose();
    const cases: Array<[string, tf.LayersModel, number, 'adam' | 'sgd', RegExp]> = [
      ['another seed', tinyMlp(3), 6, 'adam', /seed 5, not 6/],
      ['another output size', tinyMlp(3, 6, 4), 5, 'adam', /weight \d+ .* != model/],
      ['no batch norm', tinyMlp(3, 6, 3, { bn: false }), 5, 'adam', /has 8 weights, the model 4/],
      ['no dropout layer', tinyMlp(3, 6, 3, { dropout: false }), 5, 'adam', /has 4 layers, the model 3/],
    ];
    for (const [what, model, seed, opt, message] of cases) {
      const w0 = weightValues(model);
      const r = new TrainingState(seed, { type: opt });
      let error: unknown;
      try {
        r.restore(c, model, weightsOf(model));
      } catch (e) {
        error = e;
      }
      expect([what, error]).toEqual([what, expect.any(CheckpointError)]);
      expect([what, (error as CheckpointError).reason, (error as Error).message]).toEqual([
        what,
        'mismatch',
        expect.stringMatching(message),
      ]);
      expect([what, weightValues(model)]).toEqual([what, w0]);
      r.dispose();
      model.dispose();
    }
    // Another optimizer type is a configuration error of this run, as it always was.
    const other = tinyMlp(3);
    const w0 = weightValues(other);
    const r = new TrainingState(5, { type: 'sgd' });
    expect(() => r.restore(c, other, weightsOf(other))).toThrow(TrainConfigError);
    expect(weightValues(other)).toEqual(w0);
    r.dispose();
    other.dispose();
    m.dispose();
  });
});
