/** The small CNN backbones' shape constants: what the catalogue describes and buildSmallCnn builds. */
export type SmallCnnWidth = 'xs' | 's' | 'm';

/** Base filter counts per width; the feature vector has 8x that many units. */
export const SMALL_CNN_WIDTHS: Readonly<Record<SmallCnnWidth, number>> = { xs: 8, s: 16, m: 32 };

export const SMALL_CNN_FEATURE_LAYER = 'features';
export const SMALL_CNN_MIN_SIZE = 28;
export const SMALL_CNN_MAX_SIZE = 64;

/** The width of a built-in small CNN backbone id ('small_cnn_s' -> 's'), or undefined. */
export function smallCnnWidthOf(id: string): SmallCnnWidth | undefined {
  const width = id.startsWith('small_cnn_') ? id.slice('small_cnn_'.length) : '';
  return Object.prototype.hasOwnProperty.call(SMALL_CNN_WIDTHS, width) ? (width as SmallCnnWidth) : undefined;
}

export function smallCnnFeatureDim(width: SmallCnnWidth): number {
  return SMALL_CNN_WIDTHS[width] * 8;
}
