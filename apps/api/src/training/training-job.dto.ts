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
import { AUGMENTATION_LEVELS, TRAINING_MODES } from '@modelsmith/contracts';

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
    description: 'Upper bound on search trials (the default recipe runs one)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  maxTrials?: number;
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
  @ApiPropertyOptional({
    enum: AUGMENTATION_LEVELS,
    default: 'auto',
    description:
      "Training-batch augmentation; 'auto' = 'light' (flip, resized crop, colour jitter) except 'none' in fast mode",
  })
  @IsOptional()
  @IsIn(AUGMENTATION_LEVELS)
  augmentation?: (typeof AUGMENTATION_LEVELS)[number];
}

/** Fields of POST /v1/jobs for training tasks (the job's `options` carry TrainingOptionsDto). */
export class CreateTrainingJobFields {
  @ApiPropertyOptional({ description: 'Dataset version to train on (image-classification)' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  datasetVersionId?: string;

  @ApiPropertyOptional({ enum: TRAINING_MODES, default: 'balanced' })
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
