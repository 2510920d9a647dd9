import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { categoricalCrossentropy, toClassIndices } from '../train/losses';
import { allLayers, orderedWeights } from '../train/layers';
import { Rng, mixSeed, withSeededRandom } from '../train/rng';
import { setBatchNormInference } from '../zoo/batch-norm-mode';
import type { FeatureRequest, GradientReplicaInit, GradientStep } from './gradient-protocol';
import { readInto } from './read-into';

type LayerVariable = tf.LayerVariable;

/**
 * One model replica in a worker thread of a ReplicaPool: before each step it takes the training
 * thread's weights (all of them, moving statistics included) from shared memory, then computes its
 * shard's gradients for the weights the step trains, scaled by the shard's share of the batch, into
 * its row of shared memory. It keeps no state of its own between steps.
 */
export class GradientReplica {
  /** Models from the input to one layer's output (feature requests), by layer name. */
  private readonly extractors = new Map<string, tf.LayersModel>();

  private constructor(
    private readonly init: GradientReplicaInit,
    private readonly model: tf.LayersModel,
    private readonly weights: LayerVariable[],
  ) {}

  static async create(init: GradientReplicaInit): Promise<GradientReplica> {
    await initBackend({
      prefer: init.backend,
      nativeBlas: init.nativeBlas,
      ...(init.blasCore ? { blasCore: init.blasCore } : {}),
    });
    if (init.setupModule) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(init.setupModule);
    }
    const model = await tf.loadLayersModel(tf.io.fromMemory(init.artifacts));
    const inference = new Set(init.batchNormInference);
    setBatchNormInference(
      allLayers(model).filter((l) => inference.has(l.name)),
      true,
    );
    const weights = orderedWeights(model).map((o) => o.weight);
    if (weights.length !== init.offsets.length)
      throw new Error(`replica has ${weights.length} weights, the training model ${init.offsets.length}`);
    weights.forEach((w, i) => {
      const size = w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
      const end = init.offsets[i + 1] ?? init.weights.byteLength / 4;
      if (end - init.offsets[i] !== size) throw new Error(`replica weight ${w.name} has another size`);
    });
    return new GradientReplica(init, model, weights);
  }

  get backend(): string {
    return tf.getBackend();
  }

  private sizeOf(i: number): number {
    return (this.init.offsets[i + 1] ?? this.init.weights.byteLength / 4) - this.init.offsets[i];
  }

  /** Sets every weight from the training thread's values. */
  private readWeights(): void {
    const shared = new Float32Array(this.init.weights);
    tf.tidy(() => {
      this.weights.forEach((w, i) => {
        const at = this.init.offsets[i];
        w.write(tf.tensor(shared.subarray(at, at + this.sizeOf(i)), w.shape as number[], 'float32'));
      });
    });
  }

  /** The output of `msg.layer` for `msg.x` (inference), row-major. */
  features(msg: FeatureRequest): Float32Array {
    if (msg.weights) this.readWeights();
    let extractor = this.extractors.get(msg.layer);
    if (!extractor) {
      extractor = tf.model({ inputs: this.model.inputs, outputs: this.model.getLayer(msg.layer).output });
      this.extractors.set(msg.layer, extractor);
    }
    const m = extractor;
    return tf.tidy(() => {
      const out = m.predict(tf.tensor(msg.x.data, msg.x.shape)) as tf.Tensor;
      return new Float32Array(out.dataSync());
    });
  }

  step(msg: GradientStep): { loss: number; correct: number; outputs?: Float32Array } {
    this.readWeights();
    const trainable = new Set(msg.trainable);
    this.weights.forEach((w, i) => (w.trainable = trainable.has(i)));
    const vars = msg.trainable.map((i) => this.weights[i].read() as tf.Variable);
    const row = new Float32Array(this.init.grads);
    const { shard } = msg;
    const n = shard.x.shape[0];
    const chunk = msg.microBatch && msg.microBatch < n ? msg.microBatch : n;
    let loss = 0;
    let correct = 0;
    const outParts: Float32Array[] = [];
    const rng = new Rng(mixSeed(msg.seed, this.init.workerIndex + 1));
    withSeededRandom(rng, () =>
      tf.tidy(() => {
        const x = tf.tensor(shard.x.data, shard.x.shape);
        const y = tf.tensor(shard.y.data, shard.y.shape);
        const sums: Array<tf.Tensor | null> = vars.map(() => null);
        for (let start = 0; start < n; start += chunk) {
          const size = Math.min(chunk, n - start);
          const weight = (msg.shard.weight * size) / n;
          const part = tf.tidy(() => {
            const xs = size === n ? x : tf.slice(x, start, size);
            const ys = size === n ? y : tf.slice(y, start, size);
            let correctT: tf.Tensor | undefined;
            const { value, grads } = tf.variableGrads(() => {
              const out = this.model.apply(xs, { training: true }) as tf.Tensor;
              const numClasses = out.shape[out.shape.length - 1];
              if (msg.outputs && out.rank === 2) outParts.push(new Float32Array(out.dataSync()));
              if (out.rank === 2 && numClasses > 1)
                correctT = tf.keep(
                  tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), toClassIndices(ys, numClasses)), 'int32')),
                );
              return categoricalCrossentropy(ys, out, msg.loss);
            }, vars);
            loss += value.dataSync()[0] * weight;
            if (correctT) {
              correct += correctT.dataSync()[0];
              correctT.dispose();
            }
            const scaled: Record<number, tf.Tensor> = {};
            vars.forEach((v, k) => {
              const g = grads[v.name];
              if (g) scaled[k] = tf.mul(g, weight);
            });
            return scaled;
          });
          vars.forEach((_, k) => {
            const g = part[k];
            if (!g) return;
            const previous = sums[k];
            sums[k] = previous ? tf.add(previous, g) : g;
            if (previous) tf.dispose([previous, g]);
          });
        }
        msg.trainable.forEach((wi, k) => {
          const at = this.init.offsets[wi];
          const g = sums[k];
          if (g) readInto(g, row, at);
          else row.subarray(at, at + this.sizeOf(wi)).fill(0);
        });
      }),
    );
    if (!msg.outputs || outParts.length === 0) return { loss, correct };
    const outputs = new Float32Array(outParts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of outParts) {
      outputs.set(p, at);
      at += p.length;
    }
    return { loss, correct, outputs };
  }
}
