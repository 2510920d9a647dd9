export type PreprocessErrorCode = 'IMAGE_TOO_LARGE' | 'IMAGE_UNSUPPORTED_FORMAT' | 'IMAGE_DECODE_FAILED';

/** An input image was refused or could not be decoded. */
export class PreprocessError extends Error {
  override readonly name = 'PreprocessError';

  constructor(
    readonly code: PreprocessErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
