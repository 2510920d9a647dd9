import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { nsfwjsDistDir, nsfwjsPackageVersion } from '../catalogue/nsfwjs-package';
import { tfjsModelJsonSchema, type TfjsModelJson } from '../export/tfjs-model-json';
import { ZooError } from './zoo-errors';

export type NsfwjsModelName = 'mobilenet_v2' | 'inception_v3';

export interface NsfwjsModelFiles {
  modelJson: TfjsModelJson;
  /** Concatenated (still quantized) weight bytes, in manifest order. */
  weightData: Uint8Array;
  packageVersion: string;
}

/** dist/ directory of the installed nsfwjs package. */
function requireNsfwjsDistDir(): string {
  const dir = nsfwjsDistDir();
  if (dir === undefined) throw new ZooError('ZOO_SOURCE_UNAVAILABLE', 'the nsfwjs package is not installed');
  return dir;
}

/**
 * Evaluates one of nsfwjs's browserify UMD model modules (`model.min.js`, `group1-shardXofY.min.js`)
 * in an empty VM context, without touching Node's module cache, and returns its export.
 */
function evaluateUmdModule(file: string): unknown {
  const sandbox = { module: { exports: {} as unknown }, exports: {} };
  sandbox.exports = sandbox.module.exports as object;
  runInNewContext(readFileSync(file, 'utf8'), sandbox, { filename: file });
  return sandbox.module.exports;
}

/** Reads the model.json and weight bytes nsfwjs ships for a model. Offline: everything is in node_modules. */
export function readNsfwjsModel(name: NsfwjsModelName): NsfwjsModelFiles {
  const dir = join(requireNsfwjsDistDir(), 'models', name);
  // The module was built in another VM context: round-trip through JSON to get plain local objects.
  const raw = JSON.parse(JSON.stringify(evaluateUmdModule(join(dir, 'model.min.js')))) as unknown;
  const parsed = tfjsModelJsonSchema.safeParse(raw);
  if (!parsed.success)
    throw new ZooError('ZOO_SOURCE_UNAVAILABLE', `nsfwjs ${name} model.json has an unexpected shape`);
  const chunks: Buffer[] = [];
  for (const path of parsed.data.weightsManifest.flatMap((group) => group.paths)) {
    if (!/^group\d+-shard\d+of\d+$/.test(path))
      throw new ZooError('ZOO_SOURCE_UNAVAILABLE', `unexpected nsfwjs shard name ${path}`);
    const base64 = evaluateUmdModule(join(dir, `${path}.min.js`));
    if (typeof base64 !== 'string')
      throw new ZooError('ZOO_SOURCE_UNAVAILABLE', `nsfwjs shard ${path} is not a base64 string`);
    chunks.push(Buffer.from(base64, 'base64'));
  }
  const weights = Buffer.concat(chunks);
  return {
    modelJson: parsed.data,
    weightData: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength),
    packageVersion: nsfwjsPackageVersion() ?? 'unknown',
  };
}
