export type ZooErrorCode =
  | 'ZOO_UNKNOWN_BACKBONE'
  | 'ZOO_DUPLICATE_BACKBONE'
  | 'ZOO_INVALID_SPEC'
  | 'ZOO_INPUT_SIZE_UNSUPPORTED'
  | 'ZOO_SPEC_MISMATCH'
  | 'ZOO_NO_READER'
  | 'ZOO_SOURCE_UNAVAILABLE';

/** A backbone could not be found, registered or loaded as described. */
export class ZooError extends Error {
  override readonly name = 'ZooError';

  constructor(
    readonly code: ZooErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
