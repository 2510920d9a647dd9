import { parentPort, workerData } from 'node:worker_threads';
import type { FromGradientReplica, GradientReplicaInit, ToGradientReplica } from './gradient-protocol';
import { GradientReplica } from './gradient-replica';

/** Worker-thread entry of a ReplicaPool: one GradientReplica, driven by messages. */
const port = parentPort;
if (!port) throw new Error('parallel/gradient-worker must run in a worker thread');
const send = (msg: FromGradientReplica) => port.postMessage(msg);
const failure = (err: unknown) =>
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });

GradientReplica.create(workerData as GradientReplicaInit).then((replica) => {
  send({ type: 'ready', backend: replica.backend });
  port.on('message', (msg: ToGradientReplica) => {
    try {
      const t0 = performance.now();
      if (msg.type === 'features') {
        const values = replica.features(msg);
        const reply: FromGradientReplica = { type: 'features', values, ms: performance.now() - t0 };
        port.postMessage(reply, [values.buffer as ArrayBuffer]);
        return;
      }
      const r = replica.step(msg);
      const reply: FromGradientReplica = { type: 'gradients', ...r, ms: performance.now() - t0 };
      port.postMessage(reply, r.outputs ? [r.outputs.buffer as ArrayBuffer] : []);
    } catch (err) {
      failure(err);
    }
  });
}, failure);
