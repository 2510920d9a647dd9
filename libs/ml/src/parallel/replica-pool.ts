import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../backend';
import { orderedWeights } from '../train/layers';
import type { ReplicaShard, StepReplicas } from '../train/options';
import { allLayers } from '../train/layers';
import { isBatchNormInference } from '../zoo/batch-norm-mode';
import { artifactsOf } from './data-parallel-trainer';
import type { FromGradientReplica, GradientReplicaInit, ToGradientReplica } from './gradient-protocol';
import { readInto } from './read-into';
import { spawnModuleWorker } from './spawn-worker';

export interface ReplicaPoolOptions {
  /** Replica threads (the training thread computes a share too: 1 replica uses 2 cores). */
  replicas: number;
  /** Backend inside the replicas (default wasm: one thread per instance). */
  backend?: BackendName;
  /** Whether the replicas may use the native BLAS addon (default true; see initBackend). */
  nativeBlas?: boolean;
  /** OpenBLAS kernel preference (see initBackend); the training thread's choice normally holds. */
  blasCore?: string;
  /** Absolute path of a module each replica requires before loading the model (custom layers...). */
  setupModule?: string;
  /**
   * How each batch is shared between the training thread and the replicas (see StepReplicas.split):
   * 'even' (default) or 'measured' (by measured speed; the worker's choice).
   */
  split?: 'even' | 'measured';
}

type Reply = Exclude<FromGradientReplica, { type: 'error' }>;

/** The parts back to back, or undefined when one is missing. */
function concat(parts: Array<Float32Array | undefined>): Float32Array | undefined {
  if (parts.some((p) => p === undefined)) return undefined;
  const out = new Float32Array(parts.reduce((a, p) => a + (p?.length ?? 0), 0));
  let at = 0;
  for (const p of parts as Float32Array[]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

class ReplicaThread {
  /** Replies awaited, in the order the requests were posted (the replica answers in order). */
  private readonly waiting: Array<{ resolve: (m: Reply) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  private readonly pending: Reply[] = [];

  constructor(readonly worker: Worker) {
    worker.on('message', (msg: FromGradientReplica) => {
      if (msg.type === 'error') return this.fail(new Error(`training replica failed: ${msg.message}`));
      const w = this.waiting.shift();
      if (w) w.resolve(msg);
      else this.pending.push(msg);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`training replica exited (code ${code})`)));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }

  next<T extends Reply['type']>(type: T): Promise<Extract<Reply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const take = (m: Reply) =>
        m.type === type
          ? resolve(m as Extract<Reply, { type: T }>)
          : reject(new Error(`expected ${type}, got ${m.type}`));
      const m = this.pending.shift();
      if (m) return take(m);
      if (this.failure) return reject(this.failure);
      this.waiting.push({ resolve: take, reject });
    });
  }

  post(msg: ToGradientReplica): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(
      msg,
      msg.type === 'features'
        ? [msg.x.data.buffer as ArrayBuffer]
        : [msg.shard.x.data.buffer as ArrayBuffer, msg.shard.y.data.buffer as ArrayBuffer],
    );
  }
}

/**
 * Threads holding replicas of one model, for {@link TrainOptions.replicas}: `train()` splits every
 * batch between its own thread and these, and sums their gradients into its update. The replicas
 * copy the training model's weights (moving statistics included) before each step and keep no state,
 * so the optimizer, its state, parameter groups, schedules, clipping, regularizers, checkpoints and
 * early stopping are the training loop's alone: a run on replicas is the single-thread run with the
 * batch's gradients computed in parts. With `split: 'measured'` the parts follow each thread's
 * measured speed (the training thread, which also reads and augments the next batch while the
 * replicas compute, takes fewer rows); with training dynamics each replica returns its rows' outputs. BatchNormalization layers held in inference mode
 * (setBatchNormInference) are held so on the replicas too. Create it for a built model (its
 * architecture is copied once) and dispose it when training is done.
 */
export class ReplicaPool implements StepReplicas {
  private busy = false;

  private constructor(
    private readonly model: tf.LayersModel,
    private readonly threads: ReplicaThread[],
    private readonly weights: SharedArrayBuffer,
    private readonly grads: SharedArrayBuffer[],
    private readonly offsets: number[],
    readonly backend: string,
    readonly split: 'even' | 'measured',
  ) {}

  get size(): number {
    return this.threads.length;
  }

  static async create(model: tf.LayersModel, opts: ReplicaPoolOptions): Promise<ReplicaPool> {
    const count = Math.max(0, Math.floor(opts.replicas));
    const ordered = orderedWeights(model).map((o) => o.weight);
    const offsets: number[] = [];
    let total = 0;
    for (const w of ordered) {
      offsets.push(total);
      total += tf.util.sizeFromShape(w.shape as number[]);
    }
    const weights = new SharedArrayBuffer(total * 4);
    const grads = Array.from({ length: count }, () => new SharedArrayBuffer(total * 4));
    const split = opts.split ?? 'even';
    if (count === 0) return new ReplicaPool(model, [], weights, grads, offsets, tf.getBackend(), split);
    const artifacts = await artifactsOf(model);
    const batchNormInference = allLayers(model)
      .filter((l) => isBatchNormInference(l))
      .map((l) => l.name);
    const threads = grads.map((row, workerIndex) => {
      const init: GradientReplicaInit = {
        artifacts,
        backend: opts.backend ?? 'wasm',
        nativeBlas: opts.nativeBlas,
        blasCore: opts.blasCore,
        batchNormInference,
        weights,
        grads: row,
        offsets,
        workerIndex,
        setupModule: opts.setupModule,
      };
      return new ReplicaThread(spawnModuleWorker(__filename, 'gradient-worker', init));
    });
    try {
      const ready = await Promise.all(threads.map((t) => t.next('ready')));
      return new ReplicaPool(model, threads, weights, grads, offsets, ready[0].backend, split);
    } catch (err) {
      await Promise.all(threads.map((t) => t.worker.terminate()));
      throw err;
    }
  }

  /** Publishes the training model's weights (all of them) for the replicas' next step. */
  private publishWeights(): void {
    const shared = new Float32Array(this.weights);
    orderedWeights(this.model).forEach((o, i) => {
      readInto(o.weight.read(), shared, this.offsets[i]);
    });
  }

  async gradients(req: Parameters<StepReplicas['gradients']>[0]): ReturnType<StepReplicas['gradients']> {
    if (this.busy) throw new Error('ReplicaPool.gradients: one step at a time');
    if (req.shards.length > this.threads.length)
      throw new Error(`${req.shards.length} shards for ${this.threads.length} replicas`);
    this.busy = true;
    try {
      this.publishWeights();
      const replies = req.shards.map((shard: ReplicaShard, i) => {
        const t = this.threads[i];
        const reply = t.next('gradients');
        t.post({
          type: 'gradients',
          shard,
          trainable: req.trainable,
          loss: req.loss,
          seed: req.seed,
          ...(req.microBatch !== undefined ? { microBatch: req.microBatch } : {}),
          ...(req.outputs ? { outputs: true } : {}),
        });
        return reply;
      });
      const done = await Promise.all(replies);
      const sizes = req.trainable.map(
        (wi) => (this.offsets[wi + 1] ?? this.weights.byteLength / 4) - this.offsets[wi],
      );
      const total = sizes.reduce((a, b) => a + b, 0);
      const rows = done.map((_, r) => new Float32Array(this.grads[r]));
      const first = this.offsets[req.trainable[0]] ?? 0;
      const contiguous = req.trainable.every((wi, k) => k === 0 || wi === req.trainable[k - 1] + 1);
      let out: Float32Array;
      if (rows.length === 1 && contiguous) {
        // One replica, the trained weights back to back (a whole network trains): its row as it is,
        // no copy. The caller reads it before the next step, the only one that writes the row again.
        out = rows[0].subarray(first, first + total);
      } else {
        out = new Float32Array(total);
        rows.forEach((row, r) => {
          let at = 0;
          req.trainable.forEach((wi, k) => {
            const src = row.subarray(this.offsets[wi], this.offsets[wi] + sizes[k]);
            if (r === 0) out.set(src, at);
            else for (let i = 0; i < src.length; i++) out[at + i] += src[i];
            at += sizes[k];
          });
        });
      }
      const outputs = req.outputs ? concat(done.map((d) => d.outputs)) : undefined;
      return {
        grads: out,
        loss: done.reduce((s, d) => s + d.loss, 0),
        correct: done.reduce((s, d) => s + d.correct, 0),
        ms: done.map((d) => d.ms),
        ...(outputs ? { outputs } : {}),
      };
    } finally {
      this.busy = false;
    }
  }

  /**
   * The output of `layer` (a layer of the model, e.g. the joined features a head reads) for the
   * images `x` ([rows, ...input shape], row-major), computed in inference mode by replica thread
   * `replica` from the training model's weights: with `weights`, the model's weights as they are now
   * are published and the replica takes them first (pass it on a pass's first request to each
   * replica; the weights must not change while requests with it are under way). Requests to one
   * replica may be queued: each is answered in order. Not while a gradient step is under way.
   */
  async features(req: {
    replica: number;
    x: { data: Float32Array; shape: number[] };
    layer: string;
    weights: boolean;
  }): Promise<{ values: Float32Array; ms: number }> {
    if (this.busy) throw new Error('ReplicaPool.features: a gradient step is under way');
    const t = this.threads[req.replica];
    if (!t) throw new Error(`no replica ${req.replica} (of ${this.threads.length})`);
    if (req.weights) this.publishWeights();
    const reply = t.next('features');
    t.post({ type: 'features', x: req.x, layer: req.layer, weights: req.weights });
    const r = await reply;
    return { values: r.values, ms: r.ms };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
