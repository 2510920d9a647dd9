import {
  RECORD_CHANNELS,
  recordThroughputKey,
  type RecordTask,
  type ThroughputRecord,
} from '@modelsmith/jobs';
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

/**
 * What a completed text or tabular run measured, one row per candidate it fitted: training samples x
 * epochs per second of the fit (`backbone_id` `text:<candidate>` / `tabular:<candidate>`, `input_size`
 * the size feature: text classes, tabular feature columns; `channels` 0), and the job's wall-clock
 * time outside the fits. Runs stopped by their budget are not recorded (their last fit is cut short).
 */
export function recordThroughputRows(o: {
  jobId: string;
  workerKind: string;
  task: RecordTask;
  size: number;
  trainSamples: number;
  /** `cap`: the epochs the fit could run (text candidates; early stopping ends them sooner). */
  fits: { candidate: string; epochs: number; cap?: number; seconds: number }[];
  wallSeconds: number;
}): ThroughputRecord[] {
  const fitSeconds = o.fits.reduce((s, f) => s + f.seconds, 0);
  const overheadSeconds = Math.max(0, o.wallSeconds - fitSeconds);
  return o.fits
    .filter((f) => f.seconds > 0 && f.epochs > 0 && o.trainSamples > 0)
    .map((f) => ({
      jobId: o.jobId,
      workerKind: o.workerKind,
      backboneId: recordThroughputKey(o.task, f.candidate),
      inputSize: o.size,
      channels: RECORD_CHANNELS,
      phaseKind: 'trainable' as const,
      samplesPerSec: (o.trainSamples * f.epochs) / f.seconds,
      overheadSeconds,
      overheadUnits: 1,
      ...(f.cap !== undefined ? { epochsRun: f.epochs, epochsCap: f.cap } : {}),
    }));
}
