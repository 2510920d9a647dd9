import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { ExplainError, initBackend, ModelArtifactError } from '@modelsmith/ml';
import { buildInProcessRunner, type InProcessRunner } from '../model-runner';
import { imageShapeOf } from '../image-shape';
import type {
  ForwardResult,
  FromInferenceThread,
  InferenceThreadInit,
  LoadedInThread,
  ThreadError,
  ThreadMemory,
  ToInferenceThread,
} from './protocol';

/** Worker-thread entry of an InferenceThread: builds models and runs their forward passes. */
const port = parentPort;
if (!port) throw new Error('inference-worker must run in a worker thread');
const send = (msg: FromInferenceThread, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

function toThreadError(e: unknown): ThreadError {
  if (e instanceof ModelArtifactError || e instanceof ExplainError)
    return { name: e.name, message: e.message, code: e.code };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** The models this thread holds, by the handle the engine gave them, with their input shapes. */
const models = new Map<number, { runner: InProcessRunner; shape: [number, number, number] }>();

async function handle(msg: ToInferenceThread): Promise<{ result: unknown; transfer?: ArrayBuffer[] }> {
  switch (msg.type) {
    case 'load': {
      const { runner, calibration } = await buildInProcessRunner(msg.model, msg.build);
      models.set(msg.handle, { runner, shape: imageShapeOf(msg.model.manifest) });
      const loaded: LoadedInThread = { bytes: runner.bytes, calibration: calibration ?? null };
      return { result: loaded };
    }
    case 'predict': {
      const model = models.get(msg.handle);
      if (!model) throw new Error(`no model ${msg.handle} in the inference thread`);
      const { probabilities, passMs } = await model.runner.forward(msg.input, msg.count, model.shape);
      // A copy: what the backend returns may be a view of its memory, which must not be transferred.
      const copy = new Float32Array(probabilities);
      const result: ForwardResult = { probabilities: copy, passMs };
      return { result, transfer: [copy.buffer] };
    }
    case 'explain': {
      const model = models.get(msg.handle);
      if (!model) throw new Error(`no model ${msg.handle} in the inference thread`);
      const out = await model.runner.explain(msg.input, model.shape, msg.request, msg.baseline);
      const heatmap = new Float32Array(out.heatmap);
      return { result: { ...out, heatmap }, transfer: [heatmap.buffer] };
    }
    case 'unload': {
      await models.get(msg.handle)?.runner.dispose();
      models.delete(msg.handle);
      return { result: null };
    }
    case 'memory': {
      const { numTensors, numBytes } = tf.memory();
      const memory: ThreadMemory = { numTensors, numBytes, models: models.size };
      return { result: memory };
    }
  }
}

const init = workerData as InferenceThreadInit;
initBackend({ prefer: init.backend, nativeBlas: init.nativeBlas }).then(
  (backend) => {
    port.on('message', (msg: ToInferenceThread) => {
      handle(msg).then(
        ({ result, transfer }) => send({ type: 'done', id: msg.id, result }, transfer),
        (e: unknown) => send({ type: 'error', id: msg.id, error: toThreadError(e) }),
      );
    });
    send({ type: 'ready', backend: backend.name, nativeBlas: backend.nativeBlas });
  },
  (e: unknown) => send({ type: 'failed', error: toThreadError(e) }),
);
