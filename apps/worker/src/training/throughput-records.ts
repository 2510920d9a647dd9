import type { ThroughputRecord } from '@modelsmith/jobs';
import type { EpochRecord } from './metric-history';

/**
 * What a run measured, per phase kind, for estimates: training samples/s over its epochs' steps (the
 * run's very first epoch left out when the kind has others), and
 * the rest of the wall-clock time (setup, validation, evaluation, export) with the images it ran
 * inference on. Only uninterrupted, completed runs are recorded (a resumed run's clock is split).
 */
export function throughputRecords(o: {
  jobId: string;
  workerKind: string;
  backboneId: string;
  inputSize: number;
  channels: number;
  phases: { name: string; backbone: 'frozen' | 'trainable' }[];
  history: EpochRecord[];
  wallSeconds: number;
  overheadUnits: number;
}): ThroughputRecord[] {
  const stepSeconds = o.history.reduce((s, h) => s + h.seconds, 0);
  const overheadSeconds = Math.max(0, o.wallSeconds - stepSeconds);
  return (['frozen', 'trainable'] as const).flatMap((kind) => {
    const names = new Set(o.phases.filter((p) => p.backbone === kind).map((p) => p.name));
    const all = o.history.filter((h) => names.has(h.phase));
    // The run's first epoch carries one-time costs (memory probe, kernel warm-up): speeds come from
    // the later ones when there are any (its time still counts in the wall-clock total).
    const epochs = all.length > 1 && o.history[0] === all[0] ? all.slice(1) : all;
    const seconds = epochs.reduce((s, h) => s + h.seconds, 0);
    const samples = epochs.reduce((s, h) => s + h.samples, 0);
    if (seconds <= 0 || samples <= 0) return [];
    return [
      {
        jobId: o.jobId,
        workerKind: o.workerKind,
        backboneId: o.backboneId,
        inputSize: o.inputSize,
        channels: o.channels,
        phaseKind: kind,
        samplesPerSec: samples / seconds,
        overheadSeconds,
        overheadUnits: o.overheadUnits,
      },
    ];
  });
}
