import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import type { Job, JobEvent } from '@modelsmith/db';
import { PageQueryDto } from '../../common/pagination';

export const JOB_TASKS = ['noop'] as const;
export type JobTask = (typeof JOB_TASKS)[number];
export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;

export class CreateJobDto {
  @ApiProperty({ enum: JOB_TASKS, description: '`noop` is a diagnostic job that exercises queue, worker and progress reporting' })
  @IsIn(JOB_TASKS)
  task!: JobTask;

  @ApiPropertyOptional({ minimum: -100, maximum: 100, default: 0, description: 'Larger runs earlier' })
  @IsOptional()
  @IsInt()
  @Min(-100)
  @Max(100)
  priority?: number;
}

export class ListJobsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: (typeof JOB_STATUSES)[number];
}

export class JobEventsQueryDto {
  @ApiPropertyOptional({ description: 'Return events with seq greater than this', default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
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
    return { seq: e.seq, type: e.type, stage: e.stage, percent: e.percent, message: e.message, data: e.data, createdAt: e.createdAt };
  }
}
