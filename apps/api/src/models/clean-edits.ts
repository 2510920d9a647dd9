/** A suspected mislabeled sample as the model's label-quality file lists it. */
export interface SuspectRef {
  sampleId: string;
  /** The held-out models' confident class, when it is not the given label. */
  heldOutLabel?: string;
}

/** What a clean call needs to know of a sample of the dataset version: its class name and split. */
export interface SampleInfo {
  /** Class name (null for a sample without a class). */
  label: string | null;
  /** Whether the sample is in the training split (only those count toward the minimum). */
  train: boolean;
}

/** A suspect left as it is because removing or relabeling it would take its class below the minimum. */
export interface KeptSuspect {
  sampleId: string;
  /** The sample's given class. */
  label: string;
  reason: string;
}

/**
 * The samples a clean call removes and relabels: the client's own `remove` and `relabel` as given
 * (not capped; training then rejects a version they leave too small); then each of `suspects`
 * (already cut to maxSuspects, most suspect first) the client did not name: with `relabelSuspected`
 * and a held-out label, kept with that label; otherwise removed with `removeSuspected`, else kept as
 * it is. A suspect the client relabels is kept with the client's label.
 *
 * A suspect-driven removal or relabel of a training sample is applied only while its given class
 * keeps at least `minTrainPerClass` training samples, counted from `trainCounts` after the client's
 * edits and the suspect edits applied before it (a relabel into a class adds one to it); the other
 * suspects are left as they are and returned in `kept`. A class that starts below the minimum loses
 * none of its suspects. Suspects outside the training split, or unknown to `samples`, are not capped.
 */
export function cleanEdits(o: {
  suspects: readonly SuspectRef[];
  removeSuspected: boolean;
  relabelSuspected: boolean;
  remove: readonly string[];
  relabel: ReadonlyMap<string, string>;
  /** Each sample of the version by id. */
  samples: ReadonlyMap<string, SampleInfo>;
  /** Training samples per class name in the version. */
  trainCounts: ReadonlyMap<string, number>;
  minTrainPerClass: number;
}): { remove: Set<string>; relabel: Map<string, string>; kept: KeptSuspect[] } {
  const remove = new Set(o.remove);
  const relabel = new Map(o.relabel);
  const counts = new Map(o.trainCounts);
  const add = (label: string, n: number) => counts.set(label, (counts.get(label) ?? 0) + n);
  /** The training-count change of removing `id` (to undefined) or moving it to `to`. */
  const move = (id: string, to: string | undefined) => {
    const s = o.samples.get(id);
    if (!s?.train || s.label === null || s.label === to) return;
    add(s.label, -1);
    if (to !== undefined) add(to, 1);
  };
  for (const id of remove) move(id, undefined);
  for (const [id, to] of relabel) if (!remove.has(id)) move(id, to);

  const kept: KeptSuspect[] = [];
  for (const s of o.suspects) {
    if (remove.has(s.sampleId) || relabel.has(s.sampleId)) continue;
    const to = o.relabelSuspected && s.heldOutLabel !== undefined ? s.heldOutLabel : undefined;
    if (to === undefined && !o.removeSuspected) continue;
    const info = o.samples.get(s.sampleId);
    if (info?.train && info.label !== null && info.label !== to) {
      const n = counts.get(info.label) ?? 0;
      if (n - 1 < o.minTrainPerClass) {
        kept.push({
          sampleId: s.sampleId,
          label: info.label,
          reason:
            `class "${info.label}" has ${n} training images; ${to === undefined ? 'removing' : 'relabeling'} ` +
            `it would leave ${n - 1}, below the minimum of ${o.minTrainPerClass} to train`,
        });
        continue;
      }
    }
    move(s.sampleId, to);
    if (to !== undefined) relabel.set(s.sampleId, to);
    else remove.add(s.sampleId);
  }
  return { remove, relabel, kept };
}
