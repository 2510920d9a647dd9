import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend, ModelArtifactError, type ExportedModel } from '@modelsmith/ml';
import { calibrateBatchSize } from '../calibrate';
import { weightBytes } from '../model-runner';
import { buildForServing } from '../build-for-serving';
import { imageShapeOf } from '../served-model';
import type { FromInferenceThread, InferenceThreadInit, LoadedInThread, ThreadError, ThreadMemory, ToInferenceThread } from './protocol';

/** Worker-thread entry of an InferenceThread: builds models and runs their forward passes. */
const port = parentPort;
if (!port) throw new Error('inference-worker must run in a worker thread');
const send = (msg: FromInferenceThread, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

function toThreadError(e: unknown): ThreadError {
  if (e instanceof ModelArtifactError) return { name: e.name, message: e.message, code: e.code };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

const models = new Map<number, ExportedModel>();

function modelOf(handle: number): ExportedModel {
  const model = models.get(handle);
  if (!model) throw new Error(`no model ${handle} in the inference thread`);
  return model;
}

async function handle(msg: ToInferenceThread): Promise<{ result: unknown; transfer?: ArrayBuffer[] }> {
  switch (msg.type) {
    case 'load': {
      const exported = await buildForServing(msg.model, msg.foldBatchNorm);
      try {
        const shape = imageShapeOf(exported.manifest);
        const calibration = msg.calibrateUpTo === null ? null : await calibrateBatchSize(exported.model, shape, msg.calibrateUpTo);
        models.set(msg.handle, exported);
        const loaded: LoadedInThread = { bytes: weightBytes(exported.model), calibration };
        return { result: loaded };
      } catch (e) {
        exported.model.dispose();
        throw e;
      }
    }
    case 'predict': {
      const { model, manifest } = modelOf(msg.handle);
      const [h, w, c] = imageShapeOf(manifest);
      const out = tf.tidy(() => model.predict(tf.tensor4d(msg.input, [msg.count, h, w, c])) as tf.Tensor);
      try {
        // A copy: what dataSync returns may be a view of the backend's memory, which must not be transferred.
        const values = new Float32Array(out.dataSync());
        return { result: values, transfer: [values.buffer] };
      } finally {
        out.dispose();
      }
    }
    case 'unload': {
      models.get(msg.handle)?.model.dispose();
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
initBackend({ prefer: init.backend }).then(
  (backend) => {
    port.on('message', (msg: ToInferenceThread) => {
      handle(msg).then(
        ({ result, transfer }) => send({ type: 'done', id: msg.id, result }, transfer),
        (e: unknown) => send({ type: 'error', id: msg.id, error: toThreadError(e) }),
      );
    });
    send({ type: 'ready', backend: backend.name });
  },
  (e: unknown) => send({ type: 'failed', error: toThreadError(e) }),
);
