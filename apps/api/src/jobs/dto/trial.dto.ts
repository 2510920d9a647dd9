import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { TypedTrial } from '@modelsmith/jobs';

export const TRIAL_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'PRUNED'] as const;

/** One trial of a job (an image search, or a text/tabular candidate): a configuration, trained and scored on validation data. */
export class TrialDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'Order in which the search started its trials (0 = the first model)' })
  index!: number;
  @ApiProperty({
    enum: TRIAL_STATUSES,
    description: 'PRUNED: stopped by the budget end or a cancel before it finished',
  })
  status!: string;
  @ApiProperty({
    description:
      'The configuration. Images: backbone (and arch for nas_cnn), inputSize, learningRate, weightDecay, batchSize, ' +
      'augmentation, regularizer, epochs, and its place in the search (config, rung). Text and tabular: family, ' +
      'candidate and its settings, and its place in the plan (config)',
  })
  params!: Record<string, unknown>;
  @ApiPropertyOptional({
    nullable: true,
    description:
      'Validation metrics (images: validationAccuracy, validationLoss, macroF1; text: validationAccuracy, ' +
      'validationMacroF1; tabular: validationLoss, validationLossSE (its standard error over the validation rows), ' +
      'validationAccuracy or validationR2) or the error of a failed trial. ' +
      "Images also record the model's cost: latencyMs (wall ms per image at batch 1, moves with the machine's load), " +
      "cpuMsPerImage (process CPU ms per image, the Pareto front's cost axis), modelMB, params, and macs for nas_cnn. " +
      'A head trained on frozen features also records its test-time averaging, chosen on validation: tta ' +
      "('mirror+gray' when kept, 'none'), validationAccuracyPlain, validationLossPlain, validationAccuracyTta, validationLossTta",
  })
  metrics!: Record<string, unknown> | null;
  @ApiPropertyOptional({
    nullable: true,
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Per-epoch metrics of its training run (tabular GBDT: per boosting iteration)',
  })
  curves!: unknown[] | null;
  @ApiProperty({ description: 'Wall-clock seconds of training and validation' }) costSeconds!: number;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: "The job's model id when this trial's model is the one the job kept",
  })
  modelId!: string | null;
  @ApiProperty({
    description:
      "Whether the trial's exported model is still stored: when a search ends, only the chosen trial's and the " +
      "Pareto front's models are kept",
  })
  modelKept!: boolean;
  @ApiPropertyOptional({ nullable: true, type: Date }) startedAt!: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) finishedAt!: Date | null;

  static from(t: TypedTrial): TrialDto {
    return {
      id: t.id,
      index: t.index,
      status: t.status,
      params: t.params,
      metrics: t.metrics,
      curves: t.curves,
      costSeconds: t.costSeconds,
      modelId: t.modelId,
      modelKept: t.artifactPrefix !== null,
      startedAt: t.startedAt,
      finishedAt: t.finishedAt,
    };
  }
}

export class TrialPageDto {
  @ApiProperty({ type: [TrialDto] }) items!: TrialDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}
