import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  AUGMENTATION_LEVELS,
  TABULAR_MODELS,
  TEXT_MODELS,
  TRAINING_MODES,
  TRANSFER_REGULARIZERS,
} from '@modelsmith/contracts';

export class TrainingBudgetDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 1440,
    description: 'Wall-clock limit; when reached the best model so far is kept',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1440)
  maxMinutes?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 100,
    description: "Upper bound on search trials in mode 'auto' (default 12); the fixed-recipe modes run one",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  maxTrials?: number;
}

/** Regularization of fine-tuning from a pretrained backbone (ignored for scratch backbones). */
export class TransferOptionsDto {
  @ApiPropertyOptional({
    enum: TRANSFER_REGULARIZERS,
    default: 'none',
    description:
      "'l2sp': pull backbone weights toward the pretrained ones (Li et al. 2018); 'delta': keep the backbone's " +
      'feature maps near the pretrained ones, channels weighted by their importance to the task (Li et al. 2019); ' +
      "'bss': shrink the smallest " +
      "singular values of the batch's features (Chen et al. 2019); 'rifle': re-initialize the head during " +
      "fine-tuning (Li et al. 2020); 'auto': see docs/training.md",
  })
  @IsOptional()
  @IsIn(TRANSFER_REGULARIZERS)
  regularizer?: (typeof TRANSFER_REGULARIZERS)[number];

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 10,
    default: 0.1,
    description:
      'L2-SP strength toward the pretrained weights (default 0.1); DELTA feature-map strength (default 0.01)',
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(10)
  alpha?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 10,
    default: 0.01,
    description: "L2-SP and DELTA strength of the new head's L2",
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(10)
  beta?: number;

  @ApiPropertyOptional({
    default: false,
    description: "Drop the regularizer gradient's part opposing the loss gradient (Wan et al. 2019)",
  })
  @IsOptional()
  @IsBoolean()
  conflictRule?: boolean;

  @ApiPropertyOptional({ minimum: 0, maximum: 10, default: 0.001, description: 'BSS penalty weight' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(10)
  eta?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 64,
    default: 1,
    description: 'BSS: how many of the smallest singular values are shrunk',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  k?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 10,
    default: 3,
    description: 'RIFLE: head re-initializations during fine-tuning',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  reinitTimes?: number;
}

/** Limits the chosen model must meet (a search keeps the best trial that meets them). */
export class ModelConstraintsDto {
  @ApiPropertyOptional({
    minimum: 0.01,
    maximum: 60000,
    description: 'Measured milliseconds per image (batch 1, on the worker backend) the model may take',
  })
  @IsOptional()
  @IsNumber()
  @Min(0.01)
  @Max(60000)
  maxLatencyMs?: number;

  @ApiPropertyOptional({ minimum: 0.001, maximum: 10000, description: 'Megabytes (MiB) of float32 weights' })
  @IsOptional()
  @IsNumber()
  @Min(0.001)
  @Max(10000)
  maxModelMB?: number;
}

export class TrainingOptionsDto {
  @ApiPropertyOptional({ description: "Zoo backbone id (GET /v1/backbones) or 'auto'", example: 'auto' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  backbone?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200 }) @IsOptional() @IsInt() @Min(1) @Max(200) epochs?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: 512 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(512)
  batchSize?: number;
  @ApiPropertyOptional({ minimum: 1e-6, maximum: 1 })
  @IsOptional()
  @IsNumber()
  @Min(1e-6)
  @Max(1)
  learningRate?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 0.5 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(0.5)
  labelSmoothing?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) @Max(2 ** 31 - 1) seed?: number;
  @ApiPropertyOptional({ default: true, description: 'Stop when validation loss stops improving' })
  @IsOptional()
  @IsBoolean()
  earlyStopping?: boolean;

  @ApiPropertyOptional({ type: TransferOptionsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => TransferOptionsDto)
  transfer?: TransferOptionsDto;

  @ApiPropertyOptional({
    type: ModelConstraintsDto,
    description:
      "Search ('auto' mode): the job's model is the best trial that meets these; trials that break them are " +
      'recorded but never chosen (nor promoted)',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ModelConstraintsDto)
  constraints?: ModelConstraintsDto;

  @ApiPropertyOptional({
    enum: AUGMENTATION_LEVELS,
    default: 'auto',
    description:
      "Training-batch augmentation: 'light' (flip, resized crop, colour jitter), 'trivial' (flip + TrivialAugment), " +
      "'randaugment' (flip + RandAugment, 2 ops at magnitude 9), " +
      "'mixup' / 'cutmix' ('light' + sample mixing), 'none'; 'auto' = 'light' except 'none' in fast mode",
  })
  @IsOptional()
  @IsIn(AUGMENTATION_LEVELS)
  augmentation?: (typeof AUGMENTATION_LEVELS)[number];

  @ApiPropertyOptional({
    maxLength: 256,
    description: "Tabular datasets: the target column (default: the dataset's target)",
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  target?: string;

  @ApiPropertyOptional({
    enum: TABULAR_MODELS,
    default: 'auto',
    description:
      "Tabular datasets: 'gbdt' (gradient-boosted trees), 'linear', or 'auto' (both, best on validation)",
  })
  @IsOptional()
  @IsIn(TABULAR_MODELS)
  tabularModel?: (typeof TABULAR_MODELS)[number];

  @ApiPropertyOptional({
    enum: TEXT_MODELS,
    default: 'auto',
    description:
      "Text datasets: 'linear' (n-gram TF-IDF + softmax), 'cnn' (convolutional network over token embeddings), or 'auto' (the mode's candidates, best on validation)",
  })
  @IsOptional()
  @IsIn(TEXT_MODELS)
  textModel?: (typeof TEXT_MODELS)[number];
}

/** Fields of POST /v1/jobs for training tasks (the job's `options` carry TrainingOptionsDto). */
export class CreateTrainingJobFields {
  @ApiPropertyOptional({ description: 'Dataset version to train on (image-classification)' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  datasetVersionId?: string;

  @ApiPropertyOptional({
    enum: TRAINING_MODES,
    default: 'auto',
    description:
      "'auto': a cheap first model, then a hyper-parameter search (ASHA) on validation accuracy while the budget lasts; " +
      "'fast' | 'balanced' | 'best': one fixed recipe",
  })
  @IsOptional()
  @IsIn(TRAINING_MODES)
  mode?: (typeof TRAINING_MODES)[number];

  @ApiPropertyOptional({ type: TrainingBudgetDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => TrainingBudgetDto)
  budget?: TrainingBudgetDto;
}
