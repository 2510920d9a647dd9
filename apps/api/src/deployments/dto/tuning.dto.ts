import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsObject, IsOptional, Max, Min, ValidateNested } from 'class-validator';

/** Bounds of the serving search's inputs (every request is hostile). */
export const TUNING_LIMITS = {
  minP99Ms: 1,
  maxP99Ms: 60_000,
  minRps: 0.1,
  maxRps: 100_000,
  maxReplicas: 64,
} as const;

export class ServingSloDto {
  @ApiProperty({
    description: '99th-percentile latency objective of a one-image predict request, in ms',
    minimum: TUNING_LIMITS.minP99Ms,
    maximum: TUNING_LIMITS.maxP99Ms,
    example: 50,
  })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(TUNING_LIMITS.minP99Ms)
  @Max(TUNING_LIMITS.maxP99Ms)
  p99Ms!: number;
}

export class ExpectedLoadDto {
  @ApiProperty({
    description: 'Expected one-image predict requests per second (Poisson arrivals), over all replicas',
    minimum: TUNING_LIMITS.minRps,
    maximum: TUNING_LIMITS.maxRps,
    example: 100,
  })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(TUNING_LIMITS.minRps)
  @Max(TUNING_LIMITS.maxRps)
  rps!: number;
}

export class TuneDeploymentDto {
  @ApiProperty({ type: ServingSloDto })
  @IsObject()
  @ValidateNested()
  @Type(() => ServingSloDto)
  slo!: ServingSloDto;

  @ApiProperty({ type: ExpectedLoadDto })
  @IsObject()
  @ValidateNested()
  @Type(() => ExpectedLoadDto)
  expectedLoad!: ExpectedLoadDto;

  @ApiPropertyOptional({
    description: 'Most replicas the search may propose (default 16)',
    minimum: 1,
    maximum: TUNING_LIMITS.maxReplicas,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(TUNING_LIMITS.maxReplicas)
  maxReplicas?: number;
}

export class PassCostDto {
  @ApiProperty({ description: 'Images per forward pass' }) size!: number;
  @ApiProperty({ description: 'Median duration of the timed passes at this size, ms' }) passMs!: number;
  @ApiProperty({ description: 'Throughput of the fastest timed pass' }) imagesPerSecond!: number;
}

export class ServingPredictionDto {
  @ApiProperty() p50Ms!: number;
  @ApiProperty() p99Ms!: number;
  @ApiProperty({ description: 'Share of time forward passes run, mean over replicas (0-1)' })
  utilisation!: number;
  @ApiProperty() meanBatchSize!: number;
}

export class ServingCalibrationDto {
  @ApiProperty({ description: "tfjs backend the passes ran on (the serving inference thread's)" })
  backend!: string;
  @ApiProperty({ type: [PassCostDto] }) passes!: PassCostDto[];
  @ApiProperty({
    description:
      "Median work per request of one image on a replica's request thread (body, base64, decoding and fitting an image of the model's input size), ms; the search models it as a serial stage per replica",
  })
  requestMs!: number;
  @ApiProperty() measuredAt!: string;
}

export class DeploymentTuningDto {
  @ApiProperty({ type: ServingSloDto }) slo!: ServingSloDto;
  @ApiProperty({ type: ExpectedLoadDto }) expectedLoad!: ExpectedLoadDto;
  @ApiProperty({ description: 'Images per forward pass at most (applied by the serving app)' })
  maxBatchSize!: number;
  @ApiProperty({ description: 'How long an idle replica waits for a batch to fill, ms (applied)' })
  maxBatchWaitMs!: number;
  @ApiProperty({
    description:
      'Replicas of the serving app the prediction assumes (advice: scale the serving deployment to it; one process serves locally)',
  })
  replicas!: number;
  @ApiProperty({ type: ServingPredictionDto, description: 'What the simulator predicts at expectedLoad' })
  predicted!: ServingPredictionDto;
  @ApiProperty({ description: 'The model the calibration and answer are for' }) modelId!: string;
  @ApiProperty() modelVersion!: string;
  @ApiProperty({ type: ServingCalibrationDto }) calibration!: ServingCalibrationDto;
  @ApiProperty() tunedAt!: string;
}
