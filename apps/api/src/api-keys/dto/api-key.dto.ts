import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsDateString,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { SCOPES, type Scope } from '@modelsmith/contracts';
import { IsDateInRange, IsFutureDate } from '../../common/bounds';
import type { ApiKey } from '@modelsmith/db';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'ci-predict' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['PREDICT'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(SCOPES, { each: true })
  scopes!: Scope[];

  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'ISO-8601 time after which the key stops working; must be in the future (and before year 10000)',
  })
  @IsOptional()
  @IsDateString()
  @IsDateInRange()
  @IsFutureDate()
  expiresAt?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 1_000_000,
    description: 'Requests per minute this key may make to prediction endpoints',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  rateLimitPerMinute?: number;
}

export class ApiKeyDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Public part of the key, safe to show' }) prefix!: string;
  @ApiProperty({ enum: SCOPES, isArray: true }) scopes!: Scope[];
  @ApiProperty() createdAt!: Date;
  @ApiPropertyOptional({ nullable: true, type: Date }) lastUsedAt!: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) revokedAt!: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) expiresAt!: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) rateLimitPerMinute!: number | null;

  static from(k: ApiKey): ApiKeyDto {
    return {
      id: k.id,
      name: k.name,
      prefix: k.prefix,
      scopes: k.scopes,
      createdAt: k.createdAt,
      lastUsedAt: k.lastUsedAt,
      revokedAt: k.revokedAt,
      expiresAt: k.expiresAt,
      rateLimitPerMinute: k.rateLimitPerMinute,
    };
  }
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The secret key. Shown only in this response; store it now.' })
  key!: string;
}
