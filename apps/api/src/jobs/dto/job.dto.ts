import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDate,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import type { Job, JobEvent } from '@modelsmith/db';
import { ACCELERATORS, type Accelerator } from '@modelsmith/jobs';
import { IsDateInRange, INT4_MAX } from '../../common/bounds';
import { JOB_KINDS } from '@modelsmith/contracts';
import { PageQueryDto } from '../../common/pagination';
import { CreateTrainingJobFields, TrainingOptionsDto } from '../../training/training-job.dto';

export const JOB_TASKS = [
  'noop',
  'image-classification',
  'text-classification',
  'tabular',
  'tabular-classification',
  'tabular-regression',
] as const;
export type JobTask = (typeof JOB_TASKS)[number];
export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;

export class JobOptionsDto extends TrainingOptionsDto {
  @ApiPropertyOptional({
    enum: ACCELERATORS,
    default: 'auto',
    description:
      '`auto` runs on a GPU worker when one is connected, else on a CPU worker; `gpu` waits for a GPU worker',
  })
  @IsOptional()
  @IsIn(ACCELERATORS)
  accelerator?: Accelerator;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 600_000,
    description: '`noop` only: how long the job runs (ms)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(600_000)
  durationMs?: number;
}

export class CreateJobDto extends CreateTrainingJobFields {
  @ApiProperty({
    enum: JOB_TASKS,
    description:
      "`image-classification` and `text-classification` train a model on `datasetVersionId` (a dataset of that task); `tabular` trains a classifier or regressor on a tabular dataset version (target: `options.target`, default the dataset's), and the dataset task names `tabular-classification` and `tabular-regression` are accepted for it (the target decides which is trained); `noop` is a diagnostic job that exercises queue, worker and progress reporting. Omitted: the task of `datasetVersionId`'s dataset (required without a `datasetVersionId`)",
  })
  @IsOptional()
  @IsIn(JOB_TASKS)
  task?: JobTask;

  @ApiPropertyOptional({ minimum: -100, maximum: 100, default: 0, description: 'Larger runs earlier' })
  @IsOptional()
  @IsInt()
  @Min(-100)
  @Max(100)
  priority?: number;

  @ApiPropertyOptional({ type: JobOptionsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => JobOptionsDto)
  options?: JobOptionsDto;

  @ApiPropertyOptional({
    default: false,
    description:
      'Check the request and answer 200 with an estimate (wall-clock minutes, minutes to the first model, compute minutes charged against the quota) instead of starting the job; nothing is created',
  })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

export class ListJobsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: (typeof JOB_STATUSES)[number];

  @ApiPropertyOptional({ enum: JOB_KINDS })
  @IsOptional()
  @IsIn(JOB_KINDS)
  kind?: (typeof JOB_KINDS)[number];

  @ApiPropertyOptional({ description: 'Only jobs on this dataset version' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  datasetVersionId?: string;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'Only jobs created at or after this instant',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  @IsDateInRange()
  createdAfter?: Date;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'Only jobs created before this instant',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  @IsDateInRange()
  createdBefore?: Date;
}

export class JobEventsQueryDto {
  @ApiPropertyOptional({
    description: 'Return events with seq greater than this',
    default: 0,
    minimum: 0,
    maximum: INT4_MAX,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  after: number = 0;
}

export class JobDto {
  @ApiProperty() id!: string;
  @ApiProperty() kind!: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) stage!: string | null;
  @ApiProperty() percent!: number;
  @ApiPropertyOptional({ nullable: true, type: Number }) etaSeconds!: number | null;
  @ApiProperty() priority!: number;
  @ApiProperty() queue!: string;
  @ApiPropertyOptional({ nullable: true, type: Number }) bestMetric!: number | null;
  @ApiPropertyOptional({ nullable: true }) result!: unknown;
  @ApiPropertyOptional({ nullable: true, type: String }) failureCode!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) failureReason!: string | null;
  @ApiProperty() attempts!: number;
  @ApiProperty({
    description:
      "Compute seconds charged to the job (and the tenant's quota): its wall time on workers, plus the time its search trials trained, less the time its search only waited for those trials",
  })
  computeSeconds!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) datasetVersionId!: string | null;
  @ApiPropertyOptional({ nullable: true }) options!: unknown;
  @ApiProperty() createdAt!: Date;
  @ApiPropertyOptional({ nullable: true, type: Date }) startedAt!: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) finishedAt!: Date | null;

  static from(j: Job): JobDto {
    return {
      id: j.id,
      kind: j.kind,
      status: j.status,
      stage: j.stage,
      percent: j.percent,
      etaSeconds: j.etaSeconds,
      priority: j.priority,
      queue: j.queue,
      bestMetric: j.bestMetric,
      result: j.result,
      failureCode: j.failureCode,
      failureReason: j.failureReason,
      attempts: j.attempts,
      computeSeconds: j.computeSeconds,
      datasetVersionId: j.datasetVersionId,
      options: j.options,
      createdAt: j.createdAt,
      startedAt: j.startedAt,
      finishedAt: j.finishedAt,
    };
  }
}

export class JobEventDto {
  @ApiProperty() seq!: number;
  @ApiProperty() type!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) stage!: string | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) percent!: number | null;
  @ApiPropertyOptional({ nullable: true, type: String }) message!: string | null;
  @ApiPropertyOptional({ nullable: true }) data!: unknown;
  @ApiProperty() createdAt!: Date;

  static from(e: JobEvent): JobEventDto {
    return {
      seq: e.seq,
      type: e.type,
      stage: e.stage,
      percent: e.percent,
      message: e.message,
      data: e.data,
      createdAt: e.createdAt,
    };
  }
}

export class JobPageDto {
  @ApiProperty({ type: [JobDto] }) items!: JobDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}

export class JobOutputDto {
  @ApiProperty({ description: 'Presigned download URL' }) url!: string;
  @ApiProperty() expiresInSeconds!: number;
  @ApiProperty() sizeBytes!: number;
  @ApiProperty({ example: 'predictions.jsonl' }) fileName!: string;
}
