/** A suspected mislabeled sample as the model's label-quality file lists it. */
export interface SuspectRef {
  sampleId: string;
  /** The held-out models' confident class, when it is not the given label. */
  heldOutLabel?: string;
}

/**
 * The samples a clean call removes and relabels: the client's own `remove` and `relabel` as given;
 * then each of `suspects` (already cut to maxSuspects, most suspect first) the client did not name:
 * with `relabelSuspected` and a held-out label, kept with that label; otherwise removed with
 * `removeSuspected`, else kept as it is. A suspect the client relabels is kept with the client's label.
 */
export function cleanEdits(o: {
  suspects: readonly SuspectRef[];
  removeSuspected: boolean;
  relabelSuspected: boolean;
  remove: readonly string[];
  relabel: ReadonlyMap<string, string>;
}): { remove: Set<string>; relabel: Map<string, string> } {
  const remove = new Set(o.remove);
  const relabel = new Map(o.relabel);
  for (const s of o.suspects) {
    if (remove.has(s.sampleId) || relabel.has(s.sampleId)) continue;
    if (o.relabelSuspected && s.heldOutLabel !== undefined) relabel.set(s.sampleId, s.heldOutLabel);
    else if (o.removeSuspected) remove.add(s.sampleId);
  }
  return { remove, relabel };
}
