import type { PrismaClient, Prisma } from '@modelsmith/db';
import { RECORD_CHANNELS, type RecordTask, type RecordThroughputSample } from '../record-training-estimate';
import type { ThroughputSample } from '../training-estimate';

type Tx = Prisma.TransactionClient;

export interface ThroughputRecord {
  workerKind: string;
  backboneId: string;
  inputSize: number;
  channels: number;
  phaseKind: 'frozen' | 'trainable';
  samplesPerSec: number;
  overheadSeconds: number;
  overheadUnits: number;
  /** Text candidates: epochs the fit ran and could run (null or absent otherwise). */
  epochsRun?: number | null;
  epochsCap?: number | null;
  jobId: string;
}

/**
 * Training throughput that finished TRAIN jobs measured (`training_throughput`, platform-wide): written
 * in the transaction that records the job SUCCEEDED, read by estimates.
 */
export class ThroughputStore {
  constructor(private readonly db: PrismaClient) {}

  static async record(tx: Tx, rows: ThroughputRecord[]): Promise<void> {
    if (rows.length) await tx.trainingThroughput.createMany({ data: rows });
  }

  /** The newest samples (at most 200) of a backbone and channel count on worker kinds starting with `queue/`. */
  async recent(queue: string, backboneId: string, channels: number): Promise<ThroughputSample[]> {
    return this.db.trainingThroughput.findMany({
      where: { workerKind: { startsWith: `${queue}/` }, backboneId, channels },
      orderBy: { createdAt: 'desc' },
      take: 200,
      select: {
        workerKind: true,
        inputSize: true,
        phaseKind: true,
        samplesPerSec: true,
        overheadSeconds: true,
        overheadUnits: true,
      },
    });
  }

  /** The newest samples (at most 200) of a text or tabular task's candidates on worker kinds starting with `queue/`. */
  async recentRecords(queue: string, task: RecordTask): Promise<RecordThroughputSample[]> {
    return this.db.trainingThroughput.findMany({
      where: {
        workerKind: { startsWith: `${queue}/` },
        backboneId: { startsWith: `${task}:` },
        channels: RECORD_CHANNELS,
      },
      orderBy: { createdAt: 'desc' },
      take: 200,
      select: {
        backboneId: true,
        inputSize: true,
        samplesPerSec: true,
        overheadSeconds: true,
        overheadUnits: true,
        epochsRun: true,
        epochsCap: true,
        jobId: true,
      },
    });
  }
}
