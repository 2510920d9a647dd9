import {
  CheckpointError,
  decodeDynamics,
  encodeDynamics,
  type ArtifactReader,
  type ArtifactWriter,
  type BackboneSpec,
  type CrossFitScores,
  type DynamicsValues,
} from '@modelsmith/ml';
import { backboneHeldOut, type PipelineInput } from '../image-classification';
import type { Recipe } from '../recipe';
import { splitCount } from '../shard-batches';
import type { TrialConfig } from './recipe-space';

/**
 * A trial's training dynamics (every epoch of every phase it trained with them, encodeDynamics), next
 * to its exported model: the search's model reads them back for its label-quality report, whichever
 * worker trained the trial.
 */
export const TRIAL_DYNAMICS_FILE = 'trial-dynamics.dat';

/**
 * What the job's model's label-quality report is computed from (the worker's handler writes it):
 * the training dynamics of one trial and, for the final model of a pretrained winner, the held-out
 * label scores; or why there is none.
 */
export type SearchLabelQuality =
  | {
      /** The trial whose training dynamics these are (the model's own trial unless `note` says why not). */
      trial: number;
      dynamics: DynamicsValues;
      heldOut?: CrossFitScores;
      /** Why the report is not what the model's own trial and the held-out pass would give. */
      note?: string;
    }
  | { unavailable: string };

/** The trial fields the choice of dynamics reads. */
export interface DynamicsTrial {
  index: number;
  status: string;
  params: Record<string, unknown>;
  metrics: Record<string, unknown> | null;
  artifactPrefix: string | null;
}

export async function writeTrialDynamics(
  writer: ArtifactWriter,
  prefix: string,
  dynamics: DynamicsValues,
): Promise<void> {
  await writer.put(prefix + TRIAL_DYNAMICS_FILE, encodeDynamics(dynamics), 'application/octet-stream');
}

/** The dynamics a trial's model folder holds; undefined when it has none (or an unreadable file). */
export async function readTrialDynamics(
  reader: ArtifactReader,
  prefix: string,
): Promise<DynamicsValues | undefined> {
  const key = prefix + TRIAL_DYNAMICS_FILE;
  const size = reader.size ? await reader.size(key) : undefined;
  if (size === null) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = await reader.get(key);
  } catch (error) {
    // Without `size` a missing file is only known by the failed read.
    if (size === undefined) return undefined;
    throw error;
  }
  try {
    return decodeDynamics(bytes);
  } catch (error) {
    if (error instanceof CheckpointError) return undefined;
    throw error;
  }
}

const accuracy = (t: DynamicsTrial): number =>
  typeof t.metrics?.validationAccuracy === 'number' ? t.metrics.validationAccuracy : -1;

/**
 * The training dynamics for the model of trial `t`: its own when it recorded some (`own`, or its
 * folder's file); else — a continuation (weights averaged, no dynamics) or a head-only trial (its head
 * trains on cached features) — its continuation parent's, then those of the other finished trials,
 * best on validation first. Undefined when no trial recorded any.
 */
export async function dynamicsFor(
  reader: ArtifactReader,
  trials: readonly DynamicsTrial[],
  t: DynamicsTrial,
  own?: DynamicsValues,
): Promise<{ trial: number; dynamics: DynamicsValues } | undefined> {
  if (own && own.epochs > 0) return { trial: t.index, dynamics: own };
  const parent = trials.find((x) => x.index === Number(t.params.continuationOf));
  const others = trials
    .filter((x) => x.status === 'SUCCEEDED' && x.index !== t.index && x !== parent)
    .sort((a, b) => accuracy(b) - accuracy(a) || a.index - b.index);
  for (const x of [t, ...(parent ? [parent] : []), ...others]) {
    if (!x.artifactPrefix) continue;
    const d = await readTrialDynamics(reader, x.artifactPrefix);
    if (d && d.epochs > 0) return { trial: x.index, dynamics: d };
  }
  return undefined;
}

/** Why the label-quality report does not use trial `own`'s dynamics (undefined when it does). */
function dynamicsNote(winner: DynamicsTrial, used: number): string | undefined {
  if (used === winner.index) return undefined;
  const why =
    winner.params.continuationOf !== undefined
      ? `trial ${winner.index} continued trial ${Number(winner.params.continuationOf)} with averaged weights and recorded no training dynamics`
      : winner.params.headOnly === true
        ? `trial ${winner.index} trained a head on cached features and recorded no training dynamics`
        : `trial ${winner.index} has no training dynamics`;
  return `${why}; the scores are trial ${used}'s`;
}

/**
 * The final model's label-quality inputs: the winner's training dynamics (dynamicsFor) and, when its
 * backbone is pretrained, the held-out label scores of the train split (backboneHeldOut, as a fixed
 * recipe's run computes them), run once here, within the job's budget: not when the budget has ended,
 * the job is stopping or the pass does not fit in what is left (`skip`), in its light form when only
 * that fits (`form`, `formNote`), stopped by `signal` when the budget ends meanwhile (the search is
 * over: the budget left has no other use). Each such case is said in `note`; without the pass the
 * suspects are ranked by AUM alone.
 */
export async function searchLabelQuality(
  input: Pick<PipelineInput, 'zoo' | 'index' | 'shards'> & { reader: ArtifactReader },
  winner: DynamicsTrial,
  trials: readonly DynamicsTrial[],
  run: { spec: BackboneSpec; recipe: Recipe },
  o: {
    signal: AbortSignal;
    /** Why the held-out pass must not run (the budget ended, the job was stopped, it does not fit). */
    skip?: string;
    /** The pass's form (default 'full'; 'light' when the budget left bounds it) and why, said in `note`. */
    form?: 'full' | 'light';
    formNote?: string;
    onStart?(message: string): Promise<void>;
  },
): Promise<SearchLabelQuality> {
  const found = await dynamicsFor(input.reader, trials, winner);
  if (!found) return noDynamics(winner);
  const notes: string[] = [];
  const own = dynamicsNote(winner, found.trial);
  if (own) notes.push(own);
  let heldOut: CrossFitScores | undefined;
  if (run.spec.pretrained) {
    if (o.skip) notes.push(`no held-out pass: ${o.skip}; suspects are ranked by AUM alone`);
    else {
      await o.onStart?.(
        `label quality: held-out scores of the ${splitCount(input.index, 'train')} training images (${run.spec.id})`,
      );
      try {
        heldOut = await backboneHeldOut({ ...input, ...run }, o.signal, undefined, o.form ?? 'full');
        if (heldOut && o.formNote) notes.push(o.formNote);
        if (!heldOut)
          notes.push(
            o.signal.aborted
              ? 'the held-out pass was stopped (the budget ended); suspects are ranked by AUM alone'
              : 'no held-out pass: the training split is too small or too large for it; suspects are ranked by AUM alone',
          );
      } catch (error) {
        notes.push(
          `the held-out pass failed (${error instanceof Error ? error.message : String(error)}); suspects are ranked by AUM alone`,
        );
      }
    }
  }
  return {
    trial: found.trial,
    dynamics: found.dynamics,
    ...(heldOut ? { heldOut } : {}),
    ...(notes.length ? { note: notes.join('. ') } : {}),
  };
}

/**
 * Why a model has no label-quality report: no trial recorded training dynamics, by the end of the
 * search or (`soFar`) by the time an earlier best was kept (a job cancelled then keeps that model).
 */
export function noDynamics(winner: DynamicsTrial, soFar = false): { unavailable: string } {
  return {
    unavailable: `no trial of the search ${soFar ? 'had recorded' : 'recorded'} training dynamics (trial ${winner.index}'s model: ${describe(winner)})`,
  };
}

function describe(t: DynamicsTrial): string {
  const c = t.params as Partial<TrialConfig>;
  return `${String(c.backbone)}${c.headOnly ? ', head only' : ''}${t.params.continuationOf !== undefined ? ', a continuation' : ''}`;
}
