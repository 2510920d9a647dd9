import sharp from 'sharp';
import type { ImageShardIndex, ShardSource } from '@modelsmith/datasets';
import {
  suspectCount,
  suspectMislabeled,
  type CrossFitScores,
  type DynamicsValues,
  type SampleScores,
} from '@modelsmith/ml';
import { splitSamples } from './shard-batches';

/** Suspects listed (with thumbnails) in the model report. */
export const LISTED_SUSPECTS = 50;
/** Suspects kept in the model's label-quality.json (what `POST /v1/models/:id/clean` removes). */
export const MAX_STORED_SUSPECTS = 20_000;

export interface Suspect {
  /** sha256 of the sample's original bytes: its id across dataset versions. */
  sampleId: string;
  path: string;
  givenLabel: string;
  /** The class the model preferred over the given label most strongly across epochs. */
  believedLabel: string;
  aum: number;
  /** Held-out margin (log p(given) - max log p(other) of a model that never trained on the sample). */
  heldOutMargin?: number;
  /**
   * The held-out models' confident class when it is not the given label (confident learning: the most
   * probable held-out class whose probability reaches its class's mean); what
   * `POST /v1/models/:id/clean` with `relabelSuspected` gives the sample.
   */
  heldOutLabel?: string;
  confidence: number;
  variability: number;
  correctness: number;
  /** Thumbnail file among the model's files (listed suspects only). */
  thumbnail?: string;
}

/** The model report's `labelQuality` section. */
export interface LabelQuality {
  /**
   * 'held-out': 0.65 of the held-out (cross-fitted) estimate of the mislabeled count
   * ({@link suspectCount}), most suspect by the held-out margin first; 'aum+held-out' (models trained before it): suspected when AUM and the
   * held-out margin agree; 'aum': AUM alone.
   */
  method: 'aum' | 'aum+held-out' | 'held-out';
  /** Epochs (over all phases) the scores average. */
  epochs: number;
  scored: number;
  /** AUM below this is suspected. */
  threshold: number;
  suspected: number;
  /** Fraction of each class's training samples suspected. */
  suspectedByClass: Record<string, number>;
  /** The lowest-AUM suspects, lowest first (at most LISTED_SUSPECTS). */
  suspects: Suspect[];
  /** A search's model ('auto' jobs): the trial whose training dynamics the scores come from. */
  trial?: number;
  /**
   * A search's model: why the report is not what its own trial's dynamics and the held-out pass would
   * give (another trial's dynamics; no held-out pass because the budget ended, or it failed).
   */
  note?: string;
}

/**
 * Suspected mislabeled training samples: with held-out scores, 0.65 of confident learning's estimate
 * of the mislabeled count ({@link suspectCount}), lowest held-out margin first; without, AUM
 * from the run's training dynamics below the automatic threshold, lowest first. `all` has up to
 * MAX_STORED_SUSPECTS of them; `report` lists the first LISTED_SUSPECTS.
 */
export function labelQuality(
  index: ImageShardIndex,
  dynamics: DynamicsValues,
  heldOut?: CrossFitScores,
): { report: LabelQuality; all: Suspect[] } {
  const train = splitSamples(index, 'train');
  const held = heldOut && heldOut.margin.length === dynamics.samples ? heldOut : undefined;
  const r = suspectMislabeled(dynamics, {
    limit: MAX_STORED_SUSPECTS,
    ...(held ? { heldOutMargin: held.margin, heldOutCount: suspectCount(held, dynamics.label) } : {}),
  });
  const name = (k: number) => index.labels[k] ?? String(k);
  const all = r.suspects.flatMap((s: SampleScores): Suspect[] => {
    const sample = train[s.id];
    if (!sample) return [];
    return [
      {
        sampleId: sample.hash,
        path: sample.path,
        givenLabel: name(s.label),
        believedLabel: name(s.believed),
        aum: round(s.aum),
        ...(held ? { heldOutMargin: round(held.margin[s.id]) } : {}),
        ...(held && held.confident[s.id] >= 0 && held.confident[s.id] !== s.label
          ? { heldOutLabel: name(held.confident[s.id]) }
          : {}),
        confidence: round(s.confidence),
        variability: round(s.variability),
        correctness: round(s.correctness),
      },
    ];
  });
  return {
    report: {
      method: held ? 'held-out' : 'aum',
      epochs: r.epochs,
      scored: r.scored,
      threshold: round(r.threshold),
      suspected: r.suspected,
      suspectedByClass: Object.fromEntries(r.suspectedByClass.map((f, k) => [name(k), round(f)])),
      suspects: all.slice(0, LISTED_SUSPECTS),
    },
    all,
  };
}

/** PNG thumbnails of the listed suspects (from the preprocessed shards), by sample id. */
export async function suspectThumbnails(
  index: ImageShardIndex,
  shards: ShardSource,
  suspects: readonly Suspect[],
): Promise<Map<string, Buffer>> {
  const byHash = new Map(index.samples.map((s) => [s.hash, s]));
  const out = new Map<string, Buffer>();
  for (const s of suspects) {
    const sample = byHash.get(s.sampleId);
    const file = sample ? index.shards[sample.shard] : undefined;
    if (!sample || !file) continue;
    const bytes = await shards.get(file.key);
    const start = sample.offset * index.recordBytes;
    const png = await sharp(bytes.subarray(start, start + index.recordBytes), {
      raw: { width: index.width, height: index.height, channels: index.channels },
    })
      .png()
      .toBuffer();
    out.set(s.sampleId, png);
  }
  return out;
}

const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : 0);
