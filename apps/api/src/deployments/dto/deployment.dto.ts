import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { DeploymentTuningDto, ExpectedLoadDto, ServingSloDto } from './tuning.dto';

export class DeploymentConfigDto {
  @ApiPropertyOptional({
    description: 'Classes returned per image unless a request asks otherwise',
    minimum: 1,
    maximum: 20,
    default: 5,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(20)
  topK?: number;
}

export class CreateDeploymentDto {
  @ApiProperty({ description: 'The READY image-classification model to serve' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  modelId!: string;

  @ApiPropertyOptional({ example: 'digits-prod', description: "Defaults to the model's name" })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ type: DeploymentConfigDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DeploymentConfigDto)
  config?: DeploymentConfigDto;

  @ApiPropertyOptional({
    type: ServingSloDto,
    description:
      'Latency objective: with expectedLoad, the serving search picks the batch size, wait and replicas (see tuning)',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ServingSloDto)
  slo?: ServingSloDto;

  @ApiPropertyOptional({ type: ExpectedLoadDto, description: 'Expected request rate (with slo)' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ExpectedLoadDto)
  expectedLoad?: ExpectedLoadDto;
}

/**
 * Every field optional; a new `modelId` swaps the model (serving loads it before sending traffic to
 * it) and drops the tuning, which was for the previous model (POST /v1/deployments/:id/tune again).
 */
export class UpdateDeploymentDto extends PartialType(
  OmitType(CreateDeploymentDto, ['slo', 'expectedLoad'] as const),
) {}

export class DeploymentQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['ACTIVE', 'INACTIVE'] })
  @IsOptional()
  @IsIn(['ACTIVE', 'INACTIVE'])
  status?: 'ACTIVE' | 'INACTIVE';
}

export class DeployedModelDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['READY', 'DELETED'] }) status!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) backbone!: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true }) metrics!: unknown;
  @ApiProperty() createdAt!: Date;
}

export class DeploymentViewDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['ACTIVE', 'INACTIVE'] }) status!: string;
  @ApiProperty() modelId!: string;
  @ApiProperty({ type: DeployedModelDto }) model!: DeployedModelDto;
  @ApiProperty({ type: DeploymentConfigDto }) config!: DeploymentConfigDto;
  @ApiProperty({
    type: DeploymentTuningDto,
    nullable: true,
    description: "The serving search's answer for an slo and expectedLoad (null: not tuned, global batching)",
  })
  tuning!: DeploymentTuningDto | null;
  @ApiProperty({ description: 'POST images here (the serving app) to get predictions' }) predictUrl!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export class DeploymentPageDto {
  @ApiProperty({ type: [DeploymentViewDto] }) items!: DeploymentViewDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}
