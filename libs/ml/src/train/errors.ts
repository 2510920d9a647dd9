/** Base class of the training module's errors; `code` is stable for callers and problem+json. */
export class TrainError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The options passed to the trainer are inconsistent (names the offending option). */
export class TrainConfigError extends TrainError {
  constructor(message: string) {
    super('TRAIN_CONFIG_INVALID', message);
  }
}

/**
 * Why a checkpoint was refused: `foreign` (not a Modelsmith training checkpoint), `unsupported` (a
 * format version this code does not read), `truncated` (bytes missing at the end), `corrupt`
 * (inconsistent or malformed contents), `mismatch` (a sound checkpoint of another model or run),
 * `invalid-key` (a store key that cannot name a checkpoint).
 */
export type CheckpointErrorReason =
  'foreign' | 'unsupported' | 'truncated' | 'corrupt' | 'mismatch' | 'invalid-key';

/** A checkpoint could not be decoded or does not fit the model being trained. */
export class CheckpointError extends TrainError {
  constructor(
    message: string,
    readonly reason: CheckpointErrorReason = 'corrupt',
  ) {
    super('CHECKPOINT_INVALID', message);
  }
}

/** The loss became NaN or infinite. */
export class NonFiniteLossError extends TrainError {
  constructor(
    readonly epoch: number,
    readonly step: number,
  ) {
    super('TRAIN_LOSS_NOT_FINITE', `loss is not finite at epoch ${epoch}, step ${step}`);
  }
}
