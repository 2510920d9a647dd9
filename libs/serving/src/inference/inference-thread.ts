import type { Worker } from 'node:worker_threads';
import {
  ExplainError,
  ModelArtifactError,
  spawnModuleWorker,
  type ExplainErrorCode,
  type ExplainRequestParsed,
  type ExportedArtifacts,
  type ModelArtifactErrorCode,
} from '@modelsmith/ml';
import type {
  BuildOptions,
  ExplainOutput,
  ForwardResult,
  FromInferenceThread,
  InferenceThreadInit,
  LoadedInThread,
  ThreadError,
  ThreadMemory,
  ToInferenceThread,
} from './protocol';

/** The inference thread stopped (crashed, or terminated): its models are gone. */
export class InferenceThreadExitedError extends Error {
  override readonly name = 'InferenceThreadExitedError';
}

function fromThreadError(e: ThreadError): Error {
  if (e.name === 'ModelArtifactError' && e.code)
    return new ModelArtifactError(e.code as ModelArtifactErrorCode, e.message);
  if (e.name === 'ExplainError' && e.code) return new ExplainError(e.code as ExplainErrorCode, e.message);
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}

/** A message to the thread before `call` numbers it (Omit over each member of the union). */
type WithoutId<M> = M extends unknown ? Omit<M, 'id'> : never;
type Call = WithoutId<ToInferenceThread>;

/**
 * A worker thread that owns tfjs models and runs their forward passes, so that the thread taking
 * HTTP requests and decoding images never waits on a model: with a pass running there, it goes on
 * accepting, decoding and batching the next requests (the two use both cores). Models are addressed
 * by a handle the caller picks; weights cross once, at load. If the thread dies, every pending and
 * later call fails with InferenceThreadExitedError and `onExit` listeners run (the engine then drops
 * the models that lived there and starts a new thread on the next load).
 */
export class InferenceThread {
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private exited: InferenceThreadExitedError | undefined;
  private readonly exitListeners: Array<(error: Error) => void> = [];

  private constructor(
    private readonly worker: Worker,
    /** The tfjs backend the thread runs on. */
    readonly backend: string,
    /** With wasm: the native BLAS addon's build when the thread's kernels use it, else null. */
    readonly nativeBlas: string | null,
  ) {
    worker.on('message', (msg: FromInferenceThread) => {
      if (msg.type !== 'done' && msg.type !== 'error') return;
      const call = this.pending.get(msg.id);
      if (!call) return;
      this.pending.delete(msg.id);
      if (msg.type === 'done') call.resolve(msg.result);
      else call.reject(fromThreadError(msg.error));
    });
    worker.on('error', (e) => this.exit(`the inference thread failed: ${e.message}`));
    worker.on('exit', (code) => this.exit(`the inference thread exited (code ${code})`));
  }

  /** Starts the thread and waits until its backend is up. */
  static start(init: InferenceThreadInit): Promise<InferenceThread> {
    const worker = spawnModuleWorker(__filename, 'inference-worker', init);
    return new Promise<InferenceThread>((resolve, reject) => {
      const onExit = (code: number) =>
        reject(new InferenceThreadExitedError(`the inference thread exited while starting (code ${code})`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (msg: FromInferenceThread) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (msg.type === 'ready') return resolve(new InferenceThread(worker, msg.backend, msg.nativeBlas));
        void worker.terminate();
        reject(
          msg.type === 'failed'
            ? fromThreadError(msg.error)
            : new Error(`inference thread: unexpected ${msg.type} while starting`),
        );
      });
    });
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  onExit(listener: (error: Error) => void): void {
    this.exitListeners.push(listener);
  }

  /** Builds the model in the thread (refusing one that does not match its manifest; batch norms folded if asked) and, with calibrateUpTo, measures its batch size there. */
  load(handle: number, model: ExportedArtifacts, build: BuildOptions): Promise<LoadedInThread> {
    // The weights are copied into the thread's structured clone; the caller does not keep them.
    return this.call({ type: 'load', handle, model, build }) as Promise<LoadedInThread>;
  }

  /** Class probabilities of `count` images, row after row, and the pass's time in the thread. `input`'s buffer is transferred (unusable after). */
  predict(handle: number, input: Float32Array, count: number): Promise<ForwardResult> {
    return this.call({ type: 'predict', handle, input, count }, [
      input.buffer as ArrayBuffer,
    ]) as Promise<ForwardResult>;
  }

  explain(
    handle: number,
    input: Float32Array,
    request: ExplainRequestParsed,
    baseline: number[],
  ): Promise<ExplainOutput> {
    return this.call({ type: 'explain', handle, input, request, baseline }, [
      input.buffer as ArrayBuffer,
    ]) as Promise<ExplainOutput>;
  }

  unload(handle: number): Promise<void> {
    return this.call({ type: 'unload', handle }) as Promise<void>;
  }

  /** tf.memory() inside the thread, and how many models it holds. */
  memory(): Promise<ThreadMemory> {
    return this.call({ type: 'memory' }) as Promise<ThreadMemory>;
  }

  /** Stops the thread; pending calls fail. */
  async terminate(): Promise<void> {
    if (!this.exited) await this.worker.terminate();
  }

  private call(msg: Call, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  private exit(reason: string): void {
    if (this.exited) return;
    this.exited = new InferenceThreadExitedError(reason);
    for (const call of this.pending.values()) call.reject(this.exited);
    this.pending.clear();
    for (const listener of this.exitListeners) listener(this.exited);
  }
}
