import * as os from 'node:os';
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../backend';
import { spawnModuleWorker } from './spawn-worker';
import type { Batch, FromWorker, LossName, OptimizerSpec, ToWorker } from './protocol';

export interface DataParallelOptions {
  /** Model to replicate; its topology and current weights are copied into every worker. */
  model: tf.LayersModel;
  optimizer: OptimizerSpec;
  loss: LossName;
  /** Worker threads, one model replica (and one wasm instance) each. Default: the number of cores. */
  workers?: number;
  /** Backend inside the workers (default wasm: one thread per instance, so one worker per core). */
  backend?: BackendName;
  /** Whether the workers may use the native BLAS addon on wasm (default true; see initBackend). */
  nativeBlas?: boolean;
  /** Absolute path of a module each worker requires before loading the model (custom layers...). */
  setupModule?: string;
}

export interface StepResult {
  /** Mean loss over the whole batch. */
  loss: number;
  /** Slowest worker's compute time for its shard, ms. */
  computeMs: number;
}

type Reply = Exclude<FromWorker, { type: 'error' }>;

/** A worker thread with a FIFO of awaited replies. */
class ReplicaHandle {
  private readonly waiting: { resolve: (m: Reply) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(readonly worker: Worker) {
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'error') return this.fail(new Error(`data-parallel worker failed: ${msg.message}`));
      this.waiting.shift()?.resolve(msg);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`data-parallel worker exited (code ${code})`)));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }

  /** Resolves with the next reply of this worker. */
  next<T extends Reply['type']>(type: T): Promise<Extract<Reply, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) =>
      this.waiting.push({
        resolve: (m) =>
          m.type === type
            ? resolve(m as Extract<Reply, { type: T }>)
            : reject(new Error(`expected ${type}, got ${m.type}`)),
        reject,
      }),
    );
  }

  post(msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(msg, transfer);
  }
}

export async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts) throw new Error('model could not be serialised');
  return artifacts;
}

/** Splits `n` rows into `k` contiguous shards as even as possible (empty shards dropped). */
export function shardSizes(n: number, k: number): number[] {
  const base = Math.floor(n / k);
  return Array.from({ length: k }, (_, i) => base + (i < n % k ? 1 : 0)).filter((s) => s > 0);
}

function slice(batch: Batch, start: number, rows: number): Batch {
  const row = batch.shape.slice(1).reduce((a, b) => a * b, 1);
  return {
    data: batch.data.slice(start * row, (start + rows) * row),
    shape: [rows, ...batch.shape.slice(1)],
  };
}

/**
 * Synchronous data-parallel training over worker threads. Each step splits the batch across the
 * replicas, each computes its shard's gradients into shared memory, and the optimizer is sharded:
 * each replica sums the gradients of, updates, and publishes (shared memory again) its 1/n range of
 * the parameters, and sets its model from the published weights before its next step. With the wasm
 * backend (single-threaded per instance) this is how training uses every core.
 *
 * Non-trainable state (batch-norm moving statistics) is updated per replica from its own shard;
 * `getWeights`/`copyWeightsTo` read replica 0, as PyTorch DDP does with rank 0's buffers.
 */
export class DataParallelTrainer {
  private constructor(
    private readonly replicas: ReplicaHandle[],
    readonly backend: string,
  ) {}

  get workers(): number {
    return this.replicas.length;
  }

  static async create(opts: DataParallelOptions): Promise<DataParallelTrainer> {
    const count = Math.max(1, opts.workers ?? os.availableParallelism());
    const artifacts = await artifactsOf(opts.model);
    const paramCount = opts.model.trainableWeights.reduce(
      (n, w) => n + tf.util.sizeFromShape(w.shape as number[]),
      0,
    );
    const grads = new SharedArrayBuffer(count * paramCount * 4);
    const weights = new SharedArrayBuffer(paramCount * 4);
    const replicas = Array.from(
      { length: count },
      (_, workerIndex) =>
        new ReplicaHandle(
          spawnModuleWorker(__filename, 'worker', {
            artifacts,
            optimizer: opts.optimizer,
            loss: opts.loss,
            backend: opts.backend ?? 'wasm',
            nativeBlas: opts.nativeBlas,
            grads,
            weights,
            paramCount,
            workerIndex,
            workerCount: count,
            setupModule: opts.setupModule,
          }),
        ),
    );
    try {
      const ready = await Promise.all(replicas.map((r) => r.next('ready')));
      return new DataParallelTrainer(replicas, ready[0].backend);
    } catch (err) {
      await Promise.all(replicas.map((r) => r.worker.terminate()));
      throw err;
    }
  }

  /** One synchronous step on a batch (x: inputs, y: targets, both batch-first). */
  async trainBatch(x: Batch, y: Batch): Promise<StepResult> {
    const n = x.shape[0];
    if (y.shape[0] !== n) throw new Error(`x has ${n} rows, y has ${y.shape[0]}`);
    const sizes = shardSizes(n, this.replicas.length);
    // Every replica takes part in `apply`; one without rows contributes zero gradients.
    let start = 0;
    const replies = this.replicas.map((r, i) => {
      const rows = sizes[i] ?? 0;
      const reply = r.next('stepped');
      if (rows === 0) {
        r.post({ type: 'step', x: slice(x, 0, 0), y: slice(y, 0, 0), weight: 0 });
      } else {
        const xs = slice(x, start, rows);
        const ys = slice(y, start, rows);
        r.post({ type: 'step', x: xs, y: ys, weight: rows / n }, [
          xs.data.buffer as ArrayBuffer,
          ys.data.buffer as ArrayBuffer,
        ]);
      }
      start += rows;
      return reply;
    });
    const stepped = await Promise.all(replies);
    // In `apply` every replica reads all rows of the shared gradient buffer (over its range) and
    // publishes its range's new values; none may write its next step's gradients, or read the
    // weights, before all have done so (a fast replica used to, under load).
    const applied = this.replicas.map((r) => r.next('applied'));
    for (const r of this.replicas) r.post({ type: 'apply' });
    await Promise.all(applied);
    let loss = 0;
    stepped.forEach((s, i) => (loss += (s.loss * (sizes[i] ?? 0)) / n));
    return { loss, computeMs: Math.max(...stepped.map((s) => s.ms)) };
  }

  setLearningRate(learningRate: number): void {
    for (const r of this.replicas) r.post({ type: 'setLearningRate', learningRate });
  }

  /** All weights (trainable and not) of replica 0, in `model.getWeights()` order. */
  async getWeights(): Promise<Float32Array[]> {
    const r = this.replicas[0];
    const reply = r.next('weights');
    r.post({ type: 'getWeights' });
    return (await reply).values;
  }

  /** Writes replica 0's weights into `model` (same architecture as the one replicated). */
  async copyWeightsTo(model: tf.LayersModel): Promise<void> {
    const values = await this.getWeights();
    const tensors = model.getWeights().map((w, i) => tf.tensor(values[i], w.shape));
    model.setWeights(tensors);
    tf.dispose(tensors);
  }

  async dispose(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.worker.terminate()));
  }
}
