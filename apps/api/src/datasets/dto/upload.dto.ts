import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
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

export class CreateUploadDto {
  @ApiProperty({ example: 'images.zip' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  fileName!: string;

  @ApiProperty({ example: 5_000_000_000, description: 'Exact size of the file in bytes' })
  @IsInt()
  @Min(1)
  @Max(5 * 1024 ** 4)
  sizeBytes!: number;

  @ApiPropertyOptional({ example: 'application/zip' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  contentType?: string;

  @ApiPropertyOptional({
    description:
      'Ingestion options: format, target, textColumn, labelColumn, splitColumn, imageSize, channels, fit, splitSeed, parentVersionId',
  })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;
}

export class CompletedPartDto {
  @ApiProperty() @IsInt() @Min(1) @Max(10_000) partNumber!: number;
  @ApiProperty({ description: 'The ETag header returned by the part PUT' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  etag!: string;
}

export class CompleteUploadDto {
  @ApiProperty({ type: CompletedPartDto, isArray: true })
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => CompletedPartDto)
  parts!: CompletedPartDto[];
}

export class PartUrlDto {
  @ApiProperty() partNumber!: number;
  @ApiProperty({ description: 'Presigned PUT URL for this part' }) url!: string;
}

export class ReceivedPartDto {
  @ApiProperty() partNumber!: number;
  @ApiProperty() etag!: string;
  @ApiProperty() size!: number;
}

export class CreatedUploadDto {
  @ApiProperty() uploadId!: string;
  @ApiProperty() datasetVersionId!: string;
  @ApiProperty({ description: 'Bytes per part (the last part may be shorter)' }) partSize!: number;
  @ApiProperty() partCount!: number;
  @ApiProperty({ type: [PartUrlDto] }) parts!: PartUrlDto[];
}

export class UploadStatusDto {
  @ApiProperty() uploadId!: string;
  @ApiProperty({ enum: ['OPEN', 'COMPLETED', 'ABORTED'] }) status!: string;
  @ApiProperty({ type: [ReceivedPartDto], description: 'Parts the store already holds' })
  received!: ReceivedPartDto[];
  @ApiProperty({ type: [PartUrlDto], description: 'Fresh URLs for every part' }) parts!: PartUrlDto[];
}
