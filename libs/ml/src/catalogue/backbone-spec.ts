import type { Normalization } from '../preprocess/normalization';

export interface ImageInputSize {
  height: number;
  width: number;
  channels: 1 | 3;
}

export type BackboneFamily = 'mobilenet_v2' | 'inception_v3' | 'small_cnn' | 'nas_cnn' | 'registered';

export type BackboneSource =
  | { kind: 'npm'; package: string; version: string; path: string }
  | { kind: 'builder'; description: string }
  | { kind: 'artifact-store'; prefix: string; description: string };

/** Metadata describing one backbone of the zoo. */
export interface BackboneSpec {
  id: string;
  displayName: string;
  family: BackboneFamily;
  /** Default input size. */
  input: ImageInputSize;
  /**
   * Input sizes other than the default that `load` accepts ({ inputSize }): the network is fully
   * convolutional up to its feature layer. Absent when only the default size works.
   */
  resizable?: { minSize: number; maxSize: number; channels: ReadonlyArray<1 | 3> };
  normalization: Normalization;
  /** Layer whose output is the feature map / vector; the classifier head is attached there. */
  featureLayer: string;
  /** Length of the feature vector (after global average pooling when the feature layer is spatial). */
  featureDim: number;
  /**
   * Whether the feature layer's output is a spatial map [h, w, featureDim] that needs pooling.
   * For registered backbones it is false in the registry and set on LoadedBackbone.spec at load.
   */
  spatialFeatures: boolean;
  pretrained: boolean;
  /** What the pretrained weights were trained on, when pretrained. */
  pretrainedOn?: string;
  source: BackboneSource;
  /** SPDX identifier plus a note on the weights' provenance. */
  license: { spdx: string; notes: string };
}
