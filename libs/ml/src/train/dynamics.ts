import { TrainConfigError } from './errors';

/**
 * Training dynamics: for every training sample, at every epoch, the probability the model gave its
 * assigned label and its margin (assigned logit minus the largest other logit), read from the
 * forward pass of the training step itself (training mode: dropout and augmentation included, as
 * Pleiss et al. 2020 record them). Samples are identified by the batch's `ids` (0..samples-1).
 *
 * Memory: 12 bytes per sample and epoch (50,000 samples x 20 epochs = 12 MB), checkpointed with the
 * run so a resumed run ends with the statistics of an uninterrupted one.
 */
export interface DynamicsValues {
  /** Samples tracked (ids are 0..samples-1). */
  samples: number;
  /** Output classes of the model. */
  classes: number;
  /** Epoch rows recorded (the last may be partial). */
  epochs: number;
  /** Assigned label per sample (-1 until seen). */
  label: Int32Array;
  /** [epochs x samples] assigned-label probability (NaN when the sample was not seen that epoch). */
  prob: Float32Array;
  /** [epochs x samples] margin in logit units (log-probability differences; NaN when unseen). */
  margin: Float32Array;
  /** [epochs x samples] the class with the largest other logit (-1 when unseen). */
  other: Int32Array;
}

/** Largest |margin| recorded: log-probabilities are floored at log(1e-30). */
const LOG_FLOOR = Math.log(1e-30);

export class TrainingDynamics {
  private rows = 0;
  private label: Int32Array;
  private prob = new Float32Array(0);
  private margin = new Float32Array(0);
  private other = new Int32Array(0);

  constructor(
    readonly samples: number,
    readonly classes: number,
  ) {
    if (!Number.isInteger(samples) || samples < 1)
      throw new TrainConfigError(`dynamics.samples must be a positive integer, got ${samples}`);
    this.label = new Int32Array(samples).fill(-1);
  }

  get epochs(): number {
    return this.rows;
  }

  /**
   * Records one step's outputs: `outputs` is [n x classes] row-major (probabilities, or logits when
   * `logits`), `labels` the assigned class per row, `ids` the sample ids, all for `epoch`.
   */
  record(
    epoch: number,
    ids: ArrayLike<number>,
    labels: ArrayLike<number>,
    outputs: Float32Array,
    logits: boolean,
  ): void {
    const n = ids.length;
    const c = this.classes;
    if (labels.length !== n || outputs.length !== n * c)
      throw new TrainConfigError(`dynamics: ${n} ids, ${labels.length} labels, ${outputs.length} outputs`);
    this.ensureRows(epoch + 1);
    const base = epoch * this.samples;
    const logp = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      const y = labels[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.samples)
        throw new TrainConfigError(`dynamics: sample id ${id} outside 0..${this.samples - 1}`);
      if (!(y >= 0 && y < c)) continue;
      const row = outputs.subarray(i * c, (i + 1) * c);
      logProbabilities(row, logits, logp);
      let best = -Infinity;
      let bestK = -1;
      for (let k = 0; k < c; k++) {
        if (k !== y && logp[k] > best) {
          best = logp[k];
          bestK = k;
        }
      }
      this.label[id] = y;
      this.prob[base + id] = Math.exp(logp[y]);
      this.margin[base + id] = bestK < 0 ? 0 : logp[y] - best;
      this.other[base + id] = bestK;
    }
  }

  /** A copy of everything recorded (plain arrays, for scores and checkpoints). */
  values(): DynamicsValues {
    const size = this.rows * this.samples;
    return {
      samples: this.samples,
      classes: this.classes,
      epochs: this.rows,
      label: this.label.slice(),
      prob: this.prob.slice(0, size),
      margin: this.margin.slice(0, size),
      other: this.other.slice(0, size),
    };
  }

  /** Takes `v` (a checkpoint's) as what was recorded so far. */
  restore(v: DynamicsValues): void {
    if (v.samples !== this.samples || v.classes !== this.classes)
      throw new TrainConfigError(
        `dynamics: the checkpoint tracks ${v.samples} samples x ${v.classes} classes, the run ${this.samples} x ${this.classes}`,
      );
    this.rows = 0;
    this.prob = new Float32Array(0);
    this.margin = new Float32Array(0);
    this.other = new Int32Array(0);
    this.ensureRows(v.epochs);
    this.label = v.label.slice();
    this.prob.set(v.prob);
    this.margin.set(v.margin);
    this.other.set(v.other);
  }

  private ensureRows(rows: number): void {
    if (rows <= this.rows) return;
    const size = rows * this.samples;
    const grow = <T extends Float32Array | Int32Array>(old: T, make: (n: number) => T, fill: number): T => {
      const next = make(size).fill(fill) as T;
      next.set(old);
      return next;
    };
    this.prob = grow(this.prob, (n) => new Float32Array(n), NaN);
    this.margin = grow(this.margin, (n) => new Float32Array(n), NaN);
    this.other = grow(this.other, (n) => new Int32Array(n), -1);
    this.rows = rows;
  }
}

/** log-softmax of logits, or log of probabilities (floored), into `out`. */
function logProbabilities(row: Float32Array, logits: boolean, out: Float64Array): void {
  const c = row.length;
  if (logits) {
    let max = -Infinity;
    for (let k = 0; k < c; k++) max = Math.max(max, row[k]);
    let sum = 0;
    for (let k = 0; k < c; k++) sum += Math.exp(row[k] - max);
    const lse = max + Math.log(sum);
    for (let k = 0; k < c; k++) out[k] = row[k] - lse;
  } else {
    for (let k = 0; k < c; k++) out[k] = row[k] > 0 ? Math.max(LOG_FLOOR, Math.log(row[k])) : LOG_FLOOR;
  }
}
