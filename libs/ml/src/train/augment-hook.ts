import * as tf from '@tensorflow/tfjs';
import type { TrainBatch } from './batches';

/** Where a training batch sits in the run: an augmentation seeds itself from these only. */
export interface AugmentContext {
  seed: number;
  epoch: number;
  /** Index of the batch in its epoch. */
  step: number;
}

/** Transforms a training batch's inputs (never validation); must not dispose `xs`. */
export type AugmentFn = (xs: tf.Tensor, ctx: AugmentContext) => tf.Tensor;

/**
 * Replaces `batch.xs` by its augmentation and disposes the original. If `augment` throws, the batch
 * keeps its original tensor (still owned by the caller) and the intermediates are freed.
 */
export function augmentBatch(batch: TrainBatch, augment: AugmentFn, ctx: AugmentContext): void {
  const raw = batch.xs;
  const out = tf.tidy(() => augment(raw, ctx));
  if (out === raw) return;
  batch.xs = out;
  raw.dispose();
}
