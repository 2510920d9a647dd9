import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { INT4_MAX } from '../../common/bounds';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

export class CreateTenantDto {
  @ApiProperty({ example: 'Acme Vision Team' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({
    example: 'acme',
    description: 'URL-safe unique id; derived from the name if absent',
  })
  @IsOptional()
  @Matches(/^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/, {
    message: 'slug must be lowercase letters, digits and dashes',
  })
  slug?: string;

  @ApiPropertyOptional({ example: 2, minimum: 0, maximum: 1000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  maxConcurrentJobs?: number;

  @ApiPropertyOptional({ example: 600, minimum: 0, maximum: INT4_MAX })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  computeMinutesPerMonth?: number;
}

export class TenantDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() slug!: string;
  @ApiProperty({ enum: ['ACTIVE', 'SUSPENDED'] }) status!: string;
  @ApiProperty() maxConcurrentJobs!: number;
  @ApiProperty() computeMinutesPerMonth!: number;
  @ApiProperty() createdAt!: Date;
}

export class TenantPageDto {
  @ApiProperty({ type: [TenantDto] }) items!: TenantDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}
