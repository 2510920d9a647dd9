import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ModelWithLineage, TypedModel } from '@modelsmith/jobs';

/** A JSON object whose fields docs/models.md describes. */
const JSON_OBJECT = { type: 'object', additionalProperties: true } as const;

export class ModelSummaryDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({
    enum: ['IMAGE_CLASSIFICATION', 'TEXT_CLASSIFICATION', 'TABULAR_CLASSIFICATION', 'TABULAR_REGRESSION'],
  })
  task!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) backbone!: string | null;
  @ApiPropertyOptional({
    ...JSON_OBJECT,
    nullable: true,
    description: 'Held-out metrics: testAccuracy, validationAccuracy, macroF1, … (docs/models.md)',
  })
  metrics!: object | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) sizeBytes!: number | null;
  @ApiPropertyOptional({ nullable: true, type: String }) jobId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) datasetVersionId!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;

  static from(m: TypedModel): ModelSummaryDto {
    return {
      id: m.id,
      name: m.name,
      task: m.task,
      backbone: m.backbone,
      metrics: m.metrics,
      sizeBytes: m.sizeBytes === null ? null : Number(m.sizeBytes),
      jobId: m.jobId,
      datasetVersionId: m.datasetVersionId,
      createdAt: m.createdAt,
      updatedAt: m.updatedAt,
    };
  }
}

export class ModelPageDto {
  @ApiProperty({ type: [ModelSummaryDto] }) items!: ModelSummaryDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}

export class ModelLineageJobDto {
  @ApiProperty() id!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) mode!: string | null;
  @ApiPropertyOptional({ ...JSON_OBJECT, nullable: true }) budget!: unknown;
  @ApiPropertyOptional({ ...JSON_OBJECT, nullable: true }) options!: unknown;
}

export class ModelLineageVersionDto {
  @ApiProperty() id!: string;
  @ApiProperty() version!: number;
  @ApiProperty() datasetId!: string;
}

export class ModelLineageDto {
  @ApiPropertyOptional({ type: ModelLineageVersionDto, nullable: true })
  datasetVersion!: ModelLineageVersionDto | null;
  @ApiPropertyOptional({ type: ModelLineageJobDto, nullable: true }) job!: ModelLineageJobDto | null;
  @ApiPropertyOptional({
    ...JSON_OBJECT,
    nullable: true,
    description: 'The recipe the model was trained with',
  })
  recipe!: object | null;
}

export class ModelDetailDto extends ModelSummaryDto {
  @ApiPropertyOptional({
    ...JSON_OBJECT,
    nullable: true,
    description:
      "Labels, input spec, preprocessing; tta: the test-time views whose probabilities predict averages with the image's",
  })
  manifest!: object | null;
  @ApiPropertyOptional({
    ...JSON_OBJECT,
    nullable: true,
    description:
      'The evaluation report on the held-out test split: confusion matrix, per-class metrics, calibration, labelQuality, …',
  })
  report!: object | null;
  @ApiPropertyOptional({
    nullable: true,
    type: 'array',
    items: JSON_OBJECT,
    description: 'Per-epoch metrics',
  })
  trainingCurves!: unknown;
  @ApiProperty({ type: ModelLineageDto }) lineage!: ModelLineageDto;

  static detail(m: ModelWithLineage): ModelDetailDto {
    return {
      ...ModelSummaryDto.from(m),
      manifest: m.manifest,
      report: m.report,
      trainingCurves: m.job?.metricHistory ?? null,
      lineage: {
        datasetVersion: m.datasetVersion,
        job: m.job ? { id: m.job.id, mode: m.job.mode, budget: m.job.budget, options: m.job.options } : null,
        recipe: m.recipe,
      },
    };
  }
}

export class ModelDownloadDto {
  @ApiProperty({ description: 'Presigned URL of the zip' }) url!: string;
  @ApiProperty() expiresInSeconds!: number;
  @ApiProperty() sizeBytes!: number;
}
