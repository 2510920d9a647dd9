import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Copies a float32 tensor's values into `dst` at `at`. On the wasm backend straight from the heap
 * (one copy); `dataSync` there first copies into a new array of the tensor's size, which for the
 * small CNN's 2.2M weights or gradients is an 8.8 MB allocation per step on each thread.
 */
export function readInto(t: tf.Tensor, dst: Float32Array, at: number): void {
  if (t.dtype === 'float32' && tf.getBackend() === 'wasm') {
    const view = (tf.backend() as BackendWasm).typedArrayFromHeap(t) as Float32Array;
    dst.set(view, at);
    return;
  }
  dst.set(t.dataSync<'float32'>(), at);
}
