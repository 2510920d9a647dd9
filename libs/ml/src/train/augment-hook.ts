import * as tf from '@tensorflow/tfjs';
import type { TrainBatch } from './batches';

/** Where a training batch sits in the run: an augmentation seeds itself from these only. */
export interface AugmentContext {
  seed: number;
  epoch: number;
  /** Index of the batch in its epoch. */
  step: number;
}

/**
 * Transforms a training batch (never validation); must not dispose its inputs. Returns the new
 * inputs, or inputs and targets (sample mixing: soft targets [n, numClasses]).
 */
export type AugmentFn = (
  xs: tf.Tensor,
  ctx: AugmentContext,
  ys?: tf.Tensor,
) => tf.Tensor | { xs: tf.Tensor; ys: tf.Tensor };

/**
 * Replaces `batch.xs` (and `batch.ys` when the augmentation returns targets) by the augmentation and
 * disposes the originals. If `augment` throws, the batch keeps its original tensors (still owned by
 * the caller) and the intermediates are freed.
 */
export function augmentBatch(batch: TrainBatch, augment: AugmentFn, ctx: AugmentContext): void {
  const raw = batch.xs;
  const rawYs = batch.ys;
  const out = tf.tidy(() => augment(raw, ctx, rawYs));
  const xs = out instanceof tf.Tensor ? out : out.xs;
  const ys = out instanceof tf.Tensor ? rawYs : out.ys;
  if (xs !== raw) {
    batch.xs = xs;
    raw.dispose();
  }
  if (ys !== rawYs) {
    batch.ys = ys;
    rawYs.dispose();
  }
}
