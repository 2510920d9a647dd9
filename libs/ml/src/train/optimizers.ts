import * as tf from '@tensorflow/tfjs';
import { canFuseAdam, fusedAdamStep } from '../kernels/native-adam';
import { TrainConfigError } from './errors';

/**
 * Optimizers implemented with plain tf ops so that their whole state (per-parameter slots and step
 * counts) can be checkpointed and restored bit for bit, parameter groups can use different learning
 * rates, and weight decay can be coupled (L2, added to the gradient) or decoupled (AdamW). On the
 * wasm backend with the native addon, an Adam step runs as one kernel of the same arithmetic.
 */
export type OptimizerConfig =
  | {
      type: 'sgd';
      momentum?: number;
      nesterov?: boolean;
      /** L2 penalty added to the gradient (coupled weight decay). */
      weightDecay?: number;
    }
  | {
      type: 'adam';
      beta1?: number;
      beta2?: number;
      epsilon?: number;
      /** L2 penalty added to the gradient (coupled, as in classic Adam). */
      weightDecay?: number;
    }
  | {
      type: 'adamw';
      beta1?: number;
      beta2?: number;
      epsilon?: number;
      /** Decoupled weight decay (Loshchilov & Hutter): p -= lr * weightDecay * p. Default 0.01. */
      weightDecay?: number;
    };

/** One trainable parameter as the optimizer sees it. */
export interface OptimizerParam {
  /** Stable key of the parameter (its index in `model.weights`). */
  key: number;
  variable: tf.Variable;
  /** Learning rate for this step (base x schedule x group scale). */
  lr: number;
  /** Weight decay for this parameter (0 for biases/norm parameters unless configured otherwise). */
  weightDecay: number;
}

/** Serialisable optimizer state: step counts and slot tensors per parameter key. */
export interface OptimizerState {
  type: OptimizerConfig['type'];
  params: Array<{ key: number; count: number; slots: Record<string, tf.Tensor> }>;
}

interface Slot {
  count: number;
  vars: Record<string, tf.Variable>;
}

export class Optimizer {
  private readonly slots = new Map<number, Slot>();

  constructor(readonly config: OptimizerConfig) {
    const c = config as {
      momentum?: number;
      beta1?: number;
      beta2?: number;
      epsilon?: number;
      weightDecay?: number;
    };
    for (const k of ['momentum', 'beta1', 'beta2'] as const) {
      const v = c[k];
      if (v !== undefined && !(v >= 0 && v < 1))
        throw new TrainConfigError(`optimizer.${k} must be in [0, 1)`);
    }
    if (c.epsilon !== undefined && !(c.epsilon > 0))
      throw new TrainConfigError('optimizer.epsilon must be > 0');
    if (c.weightDecay !== undefined && !(c.weightDecay >= 0)) {
      throw new TrainConfigError('optimizer.weightDecay must be >= 0');
    }
  }

  /** Default weight decay of this optimizer before per-group overrides. */
  get defaultWeightDecay(): number {
    if (this.config.type === 'adamw') return this.config.weightDecay ?? 0.01;
    return this.config.weightDecay ?? 0;
  }

  private slot(p: OptimizerParam, names: string[]): Slot {
    let s = this.slots.get(p.key);
    if (!s) {
      const vars: Record<string, tf.Variable> = {};
      for (const n of names) vars[n] = tf.variable(tf.zerosLike(p.variable), false);
      s = { count: 0, vars };
      this.slots.set(p.key, s);
    }
    return s;
  }

  /** Applies one update. `grads[i]` belongs to `params[i]`; a null gradient leaves the parameter alone. */
  apply(params: OptimizerParam[], grads: Array<tf.Tensor | null>): void {
    tf.tidy(() => {
      params.forEach((p, i) => {
        const g0 = grads[i];
        if (!g0) return;
        switch (this.config.type) {
          case 'sgd':
            this.sgd(p, g0);
            break;
          case 'adam':
          case 'adamw':
            this.adam(p, g0);
            break;
        }
      });
    });
  }

  private sgd(p: OptimizerParam, g0: tf.Tensor): void {
    const cfg = this.config as Extract<OptimizerConfig, { type: 'sgd' }>;
    const momentum = cfg.momentum ?? 0;
    let g = g0;
    if (p.weightDecay > 0) g = tf.add(g, tf.mul(p.variable, p.weightDecay));
    let update = g;
    if (momentum > 0) {
      const s = this.slot(p, ['momentum']);
      const buf = s.vars.momentum;
      const next = tf.add(tf.mul(buf, momentum), g);
      buf.assign(next);
      update = cfg.nesterov ? tf.add(g, tf.mul(next, momentum)) : next;
      s.count++;
    } else {
      // Count steps even without slots so that the state records progress uniformly.
      this.slot(p, []).count++;
    }
    p.variable.assign(tf.sub(p.variable, tf.mul(update, p.lr)));
  }

  private adam(p: OptimizerParam, g0: tf.Tensor): void {
    const cfg = this.config as Extract<OptimizerConfig, { type: 'adam' | 'adamw' }>;
    const b1 = cfg.beta1 ?? 0.9;
    const b2 = cfg.beta2 ?? 0.999;
    const eps = cfg.epsilon ?? 1e-7;
    const decoupled = cfg.type === 'adamw';
    const s = this.slot(p, ['m', 'v']);
    s.count++;
    const t = s.count;
    if (canFuseAdam(p.variable, g0, s.vars.m, s.vars.v)) {
      // The same arithmetic as the ops below, in one pass (native addon on the wasm backend).
      const [next, m, v] = fusedAdamStep(p.variable, s.vars.m, s.vars.v, g0, {
        beta1: b1,
        beta2: b2,
        epsilon: eps,
        stepSize: p.lr / (1 - Math.pow(b1, t)),
        biasCorrection2: 1 - Math.pow(b2, t),
        l2: !decoupled && p.weightDecay > 0 ? p.weightDecay : 0,
        decay: decoupled && p.weightDecay > 0 ? p.lr * p.weightDecay : 0,
      });
      s.vars.m.assign(m);
      s.vars.v.assign(v);
      p.variable.assign(next);
      return;
    }
    let g = g0;
    if (!decoupled && p.weightDecay > 0) g = tf.add(g, tf.mul(p.variable, p.weightDecay));
    const m = tf.add(tf.mul(s.vars.m, b1), tf.mul(g, 1 - b1));
    const v = tf.add(tf.mul(s.vars.v, b2), tf.mul(tf.square(g), 1 - b2));
    s.vars.m.assign(m);
    s.vars.v.assign(v);
    const stepSize = p.lr / (1 - Math.pow(b1, t));
    const denom = tf.add(tf.sqrt(tf.div(v, 1 - Math.pow(b2, t))), eps);
    let next = tf.sub(p.variable, tf.mul(tf.div(m, denom), stepSize));
    if (decoupled && p.weightDecay > 0) next = tf.sub(next, tf.mul(p.variable, p.lr * p.weightDecay));
    p.variable.assign(next);
  }

  /** Copies of the state tensors (the caller disposes them). */
  getState(): OptimizerState {
    const params = [...this.slots.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([key, s]) => {
        const slots: Record<string, tf.Tensor> = {};
        for (const [name, v] of Object.entries(s.vars)) slots[name] = tf.clone(v);
        return { key, count: s.count, slots };
      });
    return { type: this.config.type, params };
  }

  /** Replaces the state with copies of `state`'s tensors (the caller keeps ownership of them). */
  setState(state: OptimizerState): void {
    if (state.type !== this.config.type) {
      throw new TrainConfigError(`optimizer state is for '${state.type}', not '${this.config.type}'`);
    }
    this.dispose();
    for (const p of state.params) {
      const vars: Record<string, tf.Variable> = {};
      for (const [name, t] of Object.entries(p.slots)) vars[name] = tf.variable(t, false);
      this.slots.set(p.key, { count: p.count, vars });
    }
  }

  /** Number of slot tensors held (for leak accounting in tests). */
  get numSlotTensors(): number {
    let n = 0;
    for (const s of this.slots.values()) n += Object.keys(s.vars).length;
    return n;
  }

  dispose(): void {
    for (const s of this.slots.values()) for (const v of Object.values(s.vars)) v.dispose();
    this.slots.clear();
  }
}
