import * as tf from '@tensorflow/tfjs';
import type { ArtifactLimits } from '../export/artifact-limits';
import type { ArtifactReader } from '../export/artifact-store';
import { loadLayersModelFromStore } from '../export/read-layers-model';
import type { BackboneSpec, ImageInputSize } from '../catalogue/backbone-spec';
import { builtinBackbones } from '../catalogue/builtin-backbones';
import { smallCnnWidthOf } from '../catalogue/small-cnn-shape';
import type { LoadBackboneOptions, LoadedBackbone } from './backbone-spec';
import { loadNsfwjsBackbone } from './load-nsfwjs-backbone';
import {
  registeredBackboneSchema,
  toRegisteredSpec,
  type RegisteredBackboneInput,
} from './registered-backbone';
import { buildSmallCnn } from './small-cnn';
import { buildNasCnn } from './nas-cnn';
import { DEFAULT_NAS_ARCH } from '../search/arch';
import { ZooError } from './zoo-errors';
import { jsonClone } from './json-clone';

export interface ModelZooOptions {
  /** Reads operator-registered models; required only to load them. */
  reader?: ArtifactReader;
  limits?: Partial<ArtifactLimits>;
}

/**
 * The backbone registry: the catalogue's built-in entries (pretrained nsfwjs MobileNetV2,
 * InceptionV3; small CNN builders; see ../catalogue), plus operator-registered tfjs layers models read through an ArtifactReader.
 * Nothing here touches the network.
 */
export class ModelZoo {
  private readonly specs = new Map<string, BackboneSpec>();

  constructor(private readonly options: ModelZooOptions = {}) {
    for (const spec of builtinBackbones()) this.specs.set(spec.id, spec);
  }

  list(): BackboneSpec[] {
    return [...this.specs.values()].map((spec) => jsonClone(spec));
  }

  get(id: string): BackboneSpec {
    const spec = this.specs.get(id);
    if (!spec) throw new ZooError('ZOO_UNKNOWN_BACKBONE', `no backbone with id ${JSON.stringify(id)}`);
    return jsonClone(spec);
  }

  /** Registers a stored tfjs layers model as a backbone. Validates the spec; the model is read on load. */
  register(input: RegisteredBackboneInput): BackboneSpec {
    const parsed = registeredBackboneSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ZooError(
        'ZOO_INVALID_SPEC',
        `invalid backbone registration: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`,
      );
    }
    if (this.specs.has(parsed.data.id))
      throw new ZooError('ZOO_DUPLICATE_BACKBONE', `backbone ${parsed.data.id} already exists`);
    const spec = toRegisteredSpec(parsed.data);
    this.specs.set(spec.id, spec);
    return jsonClone(spec);
  }

  /** Loads a backbone as a model whose output is its feature layer. */
  async load(id: string, options: LoadBackboneOptions = {}): Promise<LoadedBackbone> {
    const spec = this.get(id);
    const input = resolveInputSize(spec, options.inputSize);
    const shape: [number, number, number] = [input.height, input.width, input.channels];
    switch (spec.family) {
      case 'mobilenet_v2':
      case 'inception_v3':
        return { spec, input, model: await loadNsfwjsBackbone(spec.family, spec.featureLayer, shape) };
      case 'small_cnn': {
        const width = smallCnnWidthOf(spec.id);
        if (!width) throw new ZooError('ZOO_INVALID_SPEC', `no small CNN width for ${spec.id}`);
        return {
          spec,
          input,
          model: buildSmallCnn({
            width,
            inputShape: [input.height, input.width, input.channels],
            seed: options.seed,
          }),
        };
      }
      case 'nas_cnn':
        return {
          spec,
          input,
          model: buildNasCnn({
            arch: options.arch ?? DEFAULT_NAS_ARCH,
            inputShape: [input.height, input.width, input.channels],
            seed: options.seed,
          }),
        };
      case 'registered': {
        const model = await this.loadRegistered(spec);
        // Known only once loaded: whether the registered feature layer is a spatial map.
        return { spec: { ...spec, spatialFeatures: model.outputs[0].shape.length === 4 }, input, model };
      }
    }
  }

  private async loadRegistered(spec: BackboneSpec): Promise<tf.LayersModel> {
    if (spec.source.kind !== 'artifact-store')
      throw new ZooError('ZOO_INVALID_SPEC', `backbone ${spec.id} has no store prefix`);
    if (!this.options.reader)
      throw new ZooError('ZOO_NO_READER', `loading ${spec.id} needs an ArtifactReader`);
    const full = await loadLayersModelFromStore(this.options.reader, spec.source.prefix, {
      limits: this.options.limits,
    });
    const inputShape = full.inputs[0]?.shape ?? [];
    const expected = [null, spec.input.height, spec.input.width, spec.input.channels];
    if (full.inputs.length !== 1 || JSON.stringify(inputShape) !== JSON.stringify(expected)) {
      full.dispose();
      throw new ZooError(
        'ZOO_SPEC_MISMATCH',
        `${spec.id}: model input ${JSON.stringify(inputShape)} differs from the registered ${JSON.stringify(expected)}`,
      );
    }
    let layer: tf.layers.Layer;
    try {
      layer = full.getLayer(spec.featureLayer);
    } catch (error) {
      full.dispose();
      throw new ZooError('ZOO_SPEC_MISMATCH', `${spec.id}: no layer named ${spec.featureLayer}`, {
        cause: error,
      });
    }
    const featureShape = layer.outputShape as number[];
    if (featureShape[featureShape.length - 1] !== spec.featureDim) {
      full.dispose();
      throw new ZooError(
        'ZOO_SPEC_MISMATCH',
        `${spec.id}: ${spec.featureLayer} outputs ${JSON.stringify(featureShape)}, registered dim ${spec.featureDim}`,
      );
    }
    return tf.model({ inputs: full.inputs, outputs: layer.output, name: `${spec.id}_features` });
  }
}

function resolveInputSize(spec: BackboneSpec, override: LoadBackboneOptions['inputSize']): ImageInputSize {
  if (!override) return { ...spec.input };
  const wanted: ImageInputSize = {
    height: override.height,
    width: override.width,
    channels: override.channels ?? spec.input.channels,
  };
  const same =
    wanted.height === spec.input.height &&
    wanted.width === spec.input.width &&
    wanted.channels === spec.input.channels;
  if (same) return wanted;
  const range = spec.resizable;
  const ok =
    range !== undefined &&
    [wanted.height, wanted.width].every(
      (v) => Number.isInteger(v) && v >= range.minSize && v <= range.maxSize,
    ) &&
    range.channels.includes(wanted.channels);
  if (!ok) {
    throw new ZooError(
      'ZOO_INPUT_SIZE_UNSUPPORTED',
      `${spec.id} does not accept ${wanted.height}x${wanted.width}x${wanted.channels}` +
        (range
          ? ` (sizes ${range.minSize}-${range.maxSize}, channels ${range.channels.join('/')})`
          : ' (fixed input size)'),
    );
  }
  return wanted;
}
