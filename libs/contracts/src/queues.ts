import { z } from 'zod';
import {
  batchPredictInputs,
  ingestDatasetInputs,
  noopInputs,
  rowInputs,
  trainInputs,
  type JobInputColumns,
  type JobRowInputs,
} from './job-inputs';

/**
 * The one list of queues and job definitions. Queue payloads carry ids only: Postgres is the source of
 * truth, BullMQ only dispatches, and the BullMQ job id is always the Job row id (idempotent enqueue).
 */
export const QUEUES = {
  /** CPU work: ingestion, CPU training, evaluation, export, batch prediction. */
  cpu: 'modelsmith-cpu',
  /** Work that needs a GPU worker. Only workers started with WORKER_QUEUES including gpu consume it. */
  gpu: 'modelsmith-gpu',
} as const;

export type QueueClass = keyof typeof QUEUES;
export type QueueName = (typeof QUEUES)[QueueClass];

export const jobRef = z.object({
  tenantId: z.string().min(1).max(64),
  jobId: z.string().min(1).max(64),
});
export type JobRef = z.infer<typeof jobRef>;

export interface JobDefinition<
  TPayload extends z.ZodType = z.ZodType,
  TInputs extends z.ZodType<JobRowInputs> = z.ZodType<JobRowInputs>,
> {
  /** Stable name; the BullMQ job name is `${name}@v${version}`. */
  readonly name: string;
  readonly version: number;
  readonly payload: TPayload;
  /** The job row's inputs (see job-inputs.ts): parsed on submit and again in the worker. */
  readonly inputs: TInputs;
  /** Queue classes this job may run on. */
  readonly queues: readonly QueueClass[];
  /** Matches the Job row's `kind` column. */
  readonly kind: JobKindName;
}

/** Every job kind (the Job row's `kind`); each has exactly one definition below. */
export const JOB_KINDS = ['INGEST_DATASET', 'TRAIN', 'BATCH_PREDICT', 'NOOP'] as const;
export type JobKindName = (typeof JOB_KINDS)[number];

function define<T extends z.ZodType, I extends z.ZodType<JobRowInputs>>(
  def: JobDefinition<T, I>,
): JobDefinition<T, I> {
  return Object.freeze(def);
}

/** Every job the platform runs. A job is listed here together with its worker handler: boot fails otherwise. */
export const JOBS = {
  noop: define({
    name: 'system.noop',
    version: 1,
    payload: jobRef,
    inputs: noopInputs,
    queues: ['cpu', 'gpu'],
    kind: 'NOOP',
  }),
  ingestDataset: define({
    name: 'dataset.ingest',
    version: 1,
    payload: jobRef.extend({ datasetVersionId: z.string().min(1).max(64) }),
    inputs: ingestDatasetInputs,
    queues: ['cpu'],
    kind: 'INGEST_DATASET',
  }),
  train: define({
    name: 'training.run',
    version: 1,
    payload: jobRef,
    inputs: trainInputs,
    queues: ['cpu', 'gpu'],
    kind: 'TRAIN',
  }),
  batchPredict: define({
    name: 'prediction.batch',
    version: 1,
    payload: jobRef,
    inputs: batchPredictInputs,
    queues: ['cpu'],
    kind: 'BATCH_PREDICT',
  }),
} as const;

export type JobKey = keyof typeof JOBS;
export type PayloadOf<K extends JobKey> = z.infer<(typeof JOBS)[K]['payload']>;
/** The parsed inputs of a job definition (what a handler reads). */
export type InputsOf<D extends JobDefinition> = z.output<D['inputs']>;
/** What a submitter passes for a job definition (defaults not yet applied). */
export type SubmittedInputsOf<D extends JobDefinition> = z.input<D['inputs']>;

export function bullJobName(def: JobDefinition): string {
  return `${def.name}@v${def.version}`;
}

const byBullName = new Map<string, JobDefinition>(Object.values(JOBS).map((d) => [bullJobName(d), d]));
const byKind = new Map<JobKindName, JobDefinition>(Object.values(JOBS).map((d) => [d.kind, d]));

export function definitionForBullName(name: string): JobDefinition | undefined {
  return byBullName.get(name);
}

export function definitionForKind(kind: JobKindName): JobDefinition | undefined {
  return byKind.get(kind);
}

export class InvalidJobPayloadError extends Error {
  readonly code = 'INVALID_JOB_PAYLOAD';
  constructor(jobName: string, detail: string) {
    super(`payload of ${jobName} is invalid: ${detail}`);
    this.name = 'InvalidJobPayloadError';
  }
}

export class InvalidJobInputsError extends Error {
  readonly code = 'INVALID_JOB_INPUTS';
  constructor(jobName: string, detail: string) {
    super(`inputs of ${jobName} are invalid: ${detail}`);
    this.name = 'InvalidJobInputsError';
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Parses a job's inputs (the submitter's, or the row's in the worker); throws InvalidJobInputsError. */
export function parseJobInputs<D extends JobDefinition>(def: D, raw: unknown): InputsOf<D> {
  const parsed = def.inputs.safeParse(raw);
  if (!parsed.success) throw new InvalidJobInputsError(bullJobName(def), describeIssues(parsed.error));
  return parsed.data as InputsOf<D>;
}

/** Parses a Job row's input columns (the worker, before the handler runs); throws InvalidJobInputsError. */
export function parseRowInputs<D extends JobDefinition>(def: D, row: JobInputColumns): InputsOf<D> {
  return parseJobInputs(def, rowInputs(row));
}

/** Validates a payload before it is enqueued (throws) — the worker re-validates with safeParse. */
export function validatePayload<T extends z.ZodType>(def: JobDefinition<T>, payload: unknown): z.infer<T> {
  const parsed = def.payload.safeParse(payload);
  if (!parsed.success) {
    throw new InvalidJobPayloadError(bullJobName(def), describeIssues(parsed.error));
  }
  return parsed.data;
}
