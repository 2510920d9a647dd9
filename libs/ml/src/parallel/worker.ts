import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ReplicaInit, ToWorker } from './protocol';
import { Replica } from './replica';

/** Worker-thread entry of a DataParallelTrainer: one Replica, driven by messages. */
const port = parentPort;
if (!port) throw new Error('parallel/worker must run in a worker thread');
const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

Replica.create(workerData as ReplicaInit).then(
  (replica) => {
    send({ type: 'ready', paramCount: (workerData as ReplicaInit).paramCount, backend: replica.backend });
    port.on('message', (msg: ToWorker) => {
      try {
        switch (msg.type) {
          case 'step': {
            const t0 = performance.now();
            const loss = replica.step(msg);
            send({ type: 'stepped', loss, ms: performance.now() - t0 });
            break;
          }
          case 'apply':
            replica.apply();
            send({ type: 'applied' });
            break;
          case 'setLearningRate':
            replica.setLearningRate(msg.learningRate);
            break;
          case 'getWeights': {
            const values = replica.weights();
            send(
              { type: 'weights', values },
              values.map((v) => v.buffer as ArrayBuffer),
            );
            break;
          }
        }
      } catch (err) {
        send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
    });
  },
  (err: unknown) =>
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
);
