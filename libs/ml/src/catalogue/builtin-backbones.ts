import type { BackboneSpec } from './backbone-spec';
import { nsfwjsPackageVersion } from './nsfwjs-package';
import {
  SMALL_CNN_FEATURE_LAYER,
  SMALL_CNN_MAX_SIZE,
  SMALL_CNN_MIN_SIZE,
  smallCnnFeatureDim,
  type SmallCnnWidth,
} from './small-cnn-shape';

const NSFWJS_LICENSE = {
  spdx: 'MIT',
  notes:
    'Weights ship inside the npm package nsfwjs (MIT, (c) 2019 Infinite Red). They come from the nsfw_model ' +
    'project (github.com/GantMan/nsfw_model, MIT, (c) 2020 The nsfw_model Developers): Keras ImageNet-initialized ' +
    'networks fine-tuned on a 5-class NSFW image dataset, converted to tfjs with uint8 weight quantization.',
};

const PRETRAINED_ON =
  'ImageNet initialization, then fine-tuned on 5-class NSFW image classification (nsfw_model)';

function nsfwjsBackbones(packageVersion: string): BackboneSpec[] {
  return [
    {
      id: 'mobilenet_v2',
      displayName: 'MobileNetV2 1.0 (nsfwjs)',
      family: 'mobilenet_v2',
      input: { height: 224, width: 224, channels: 3 },
      resizable: { minSize: 32, maxSize: 512, channels: [3] },
      // nsfwjs feeds pixels / 255, and the weights were fine-tuned that way.
      normalization: { kind: 'unit' },
      featureLayer: 'out_relu',
      featureDim: 1280,
      spatialFeatures: true,
      pretrained: true,
      pretrainedOn: PRETRAINED_ON,
      source: { kind: 'npm', package: 'nsfwjs', version: packageVersion, path: 'dist/models/mobilenet_v2' },
      license: NSFWJS_LICENSE,
    },
    {
      id: 'inception_v3',
      displayName: 'InceptionV3 (nsfwjs)',
      family: 'inception_v3',
      input: { height: 299, width: 299, channels: 3 },
      resizable: { minSize: 75, maxSize: 512, channels: [3] },
      normalization: { kind: 'unit' },
      featureLayer: 'mixed10',
      featureDim: 2048,
      spatialFeatures: true,
      pretrained: true,
      pretrainedOn: PRETRAINED_ON,
      source: { kind: 'npm', package: 'nsfwjs', version: packageVersion, path: 'dist/models/inception_v3' },
      license: NSFWJS_LICENSE,
    },
  ];
}

function smallCnnSpec(width: SmallCnnWidth, displayWidth: string): BackboneSpec {
  return {
    id: `small_cnn_${width}`,
    displayName: `Small CNN (${displayWidth})`,
    family: 'small_cnn',
    input: { height: 28, width: 28, channels: 1 },
    resizable: { minSize: SMALL_CNN_MIN_SIZE, maxSize: SMALL_CNN_MAX_SIZE, channels: [1, 3] },
    normalization: { kind: 'unit' },
    featureLayer: SMALL_CNN_FEATURE_LAYER,
    featureDim: smallCnnFeatureDim(width),
    spatialFeatures: false,
    pretrained: false,
    source: {
      kind: 'builder',
      description: 'Modelsmith buildSmallCnn, seeded Glorot-uniform initialization',
    },
    license: { spdx: 'Apache-2.0', notes: 'Architecture defined in this repository; no pretrained weights.' },
  };
}

function smallCnnBackbones(): BackboneSpec[] {
  return [
    smallCnnSpec('xs', 'extra small, 8 base filters'),
    smallCnnSpec('s', 'small, 16 base filters'),
    smallCnnSpec('m', 'medium, 32 base filters'),
  ];
}

/** Width of the last stage of DEFAULT_NAS_ARCH (libs/ml search/arch.ts), the default feature dim. */
export const NAS_CNN_DEFAULT_FEATURE_DIM = 64;

/** The searched convnet: its architecture comes from the search (a trial's `arch`), else the default one. */
function nasCnnBackbone(): BackboneSpec {
  return {
    id: 'nas_cnn',
    displayName: 'Searched convnet (architecture search)',
    family: 'nas_cnn',
    input: { height: 32, width: 32, channels: 1 },
    resizable: { minSize: 16, maxSize: 128, channels: [1, 3] },
    normalization: { kind: 'unit' },
    featureLayer: 'features',
    featureDim: NAS_CNN_DEFAULT_FEATURE_DIM,
    spatialFeatures: true,
    pretrained: false,
    source: {
      kind: 'builder',
      description:
        'Modelsmith buildNasCnn: conv and MobileNetV2-like stages whose widths, depths and block kinds the ' +
        'search chooses (default s16-c24x1-m32x2e4-m64x2e4), seeded He-normal initialization',
    },
    license: { spdx: 'Apache-2.0', notes: 'Architecture defined in this repository; no pretrained weights.' },
  };
}

let nsfwjsVersion: string | undefined;

/**
 * The built-in backbones of the zoo (pretrained nsfwjs MobileNetV2 and InceptionV3, the small CNN
 * builders, the searched `nas_cnn`), as fresh objects on every call. Without nsfwjs installed its entries stay listed with
 * version 'unavailable' and fail with ZOO_SOURCE_UNAVAILABLE when loaded.
 */
export function builtinBackbones(): BackboneSpec[] {
  nsfwjsVersion ??= nsfwjsPackageVersion() ?? 'unavailable';
  return [...nsfwjsBackbones(nsfwjsVersion), ...smallCnnBackbones(), nasCnnBackbone()];
}
