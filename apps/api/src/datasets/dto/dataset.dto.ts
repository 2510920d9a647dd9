import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { Dataset, DatasetVersion, Task } from '@modelsmith/db';
import { FreeText } from '../../common/free-text';

export const TASKS = [
  'image-classification',
  'text-classification',
  'tabular-classification',
  'tabular-regression',
] as const;
export type TaskName = (typeof TASKS)[number];

const TASK_ENUM: Record<TaskName, Task> = {
  'image-classification': 'IMAGE_CLASSIFICATION',
  'text-classification': 'TEXT_CLASSIFICATION',
  'tabular-classification': 'TABULAR_CLASSIFICATION',
  'tabular-regression': 'TABULAR_REGRESSION',
};

export const taskToEnum = (t: TaskName): Task => TASK_ENUM[t];
export const taskFromEnum = (t: Task): TaskName =>
  TASKS.find((n) => TASK_ENUM[n] === t) ?? 'image-classification';

export class CreateDatasetDto {
  @ApiProperty({ example: 'flowers' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ enum: TASKS, example: 'image-classification' })
  @IsIn(TASKS)
  task!: TaskName;

  @ApiPropertyOptional({
    maxLength: 2000,
    description:
      'Free text; may span lines (tab, line feed and carriage return are its only allowed control characters)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @FreeText()
  description?: string;
}

export class DatasetVersionDto {
  @ApiProperty() id!: string;
  @ApiProperty() datasetId!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ enum: ['UPLOADING', 'QUEUED', 'INGESTING', 'READY', 'FAILED', 'CANCELLED'] })
  status!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) format!: string | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) sizeBytes!: number | null;
  @ApiPropertyOptional({ nullable: true, type: String }) stage!: string | null;
  @ApiProperty() percent!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) failureCode!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) failureReason!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    description: 'Summary: samples, classes with counts per split, warnings',
  })
  stats!: unknown;
  @ApiPropertyOptional({ nullable: true, type: String }) parentVersionId!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiPropertyOptional({ nullable: true, type: Date }) readyAt!: Date | null;

  static from(
    v: Omit<DatasetVersion, 'stats' | 'options' | 'report'> & { stats: unknown },
  ): DatasetVersionDto {
    return {
      id: v.id,
      datasetId: v.datasetId,
      version: v.version,
      status: v.status,
      format: v.format,
      sizeBytes: v.sizeBytes === null ? null : Number(v.sizeBytes),
      stage: v.stage,
      percent: v.percent,
      failureCode: v.failureCode,
      failureReason: v.failureReason,
      stats: v.stats,
      parentVersionId: v.parentVersionId,
      createdAt: v.createdAt,
      readyAt: v.readyAt,
    };
  }
}

export class DatasetDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: TASKS }) task!: TaskName;
  @ApiPropertyOptional({ nullable: true, type: String }) description!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiPropertyOptional({ type: DatasetVersionDto, nullable: true }) latestVersion!: DatasetVersionDto | null;

  static from(d: Dataset, latest?: DatasetVersion | null): DatasetDto {
    return {
      id: d.id,
      name: d.name,
      task: taskFromEnum(d.task),
      description: d.description,
      createdAt: d.createdAt,
      latestVersion: latest ? DatasetVersionDto.from(latest) : null,
    };
  }
}

/** A JSON object whose shape is documented elsewhere (docs/datasets.md, docs/models.md). */
export const JSON_OBJECT = { type: 'object', additionalProperties: true } as const;

export class DatasetPageDto {
  @ApiProperty({ type: [DatasetDto] }) items!: DatasetDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}

export class DatasetDetailDto extends DatasetDto {
  @ApiProperty({ type: [DatasetVersionDto], description: 'Every version, newest first' })
  versions!: DatasetVersionDto[];
}

export class QueuedVersionDto {
  @ApiProperty({ type: DatasetVersionDto }) version!: DatasetVersionDto;
  @ApiProperty({ description: 'The ingestion job: watch it at /v1/jobs/{jobId}' }) jobId!: string;
}

export class VersionReportDto {
  @ApiProperty({ enum: ['READY', 'FAILED', 'CANCELLED'] }) status!: string;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'FAILED/CANCELLED only' })
  failureCode?: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'FAILED/CANCELLED only' })
  failureReason?: string | null;
  @ApiPropertyOptional({
    ...JSON_OBJECT,
    nullable: true,
    description:
      'The ingestion report (null unless READY): classes, splits, sizes, skipped files with reasons, duplicates, conflicts, warnings (docs/datasets.md)',
  })
  report!: unknown;
  @ApiPropertyOptional({
    ...JSON_OBJECT,
    nullable: true,
    description:
      'READY only: the suspected mislabeled samples found by the newest model trained on the version, with its modelId; null when none has them',
  })
  labelQuality?: Record<string, unknown> | null;
}

export class PreviewClassDto {
  @ApiProperty() name!: string;
  @ApiProperty() count!: number;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Samples per split (train, validation, test)',
  })
  splits?: { train?: number; validation?: number; test?: number; [split: string]: unknown };
  @ApiProperty({ type: [String], description: 'Presigned thumbnail URLs' }) samples!: string[];
}

export class VersionPreviewDto {
  @ApiProperty() datasetVersionId!: string;
  @ApiProperty({ description: 'How long the thumbnail URLs stay valid' }) expiresInSeconds!: number;
  @ApiProperty({ type: [PreviewClassDto] }) classes!: PreviewClassDto[];
}
