import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { BackboneSpec } from '@modelsmith/ml';

const OBJECT = { type: 'object', additionalProperties: true } as const;

class InputSizeDto {
  @ApiProperty() height!: number;
  @ApiProperty() width!: number;
  @ApiProperty({ enum: [1, 3] }) channels!: 1 | 3;
}

class ResizableDto {
  @ApiProperty() minSize!: number;
  @ApiProperty() maxSize!: number;
  @ApiProperty({ type: [Number] }) channels!: ReadonlyArray<1 | 3>;
}

class LicenseDto {
  @ApiProperty({ example: 'Apache-2.0' }) spdx!: string;
  @ApiProperty() notes!: string;
}

/** One backbone of the model zoo (GET /v1/backbones). */
export class BackboneDto implements BackboneSpec {
  @ApiProperty({ example: 'mobilenet_v2' }) id!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ enum: ['mobilenet_v2', 'inception_v3', 'small_cnn', 'registered'] })
  family!: BackboneSpec['family'];
  @ApiProperty({ type: InputSizeDto, description: 'Default input size' }) input!: InputSizeDto;
  @ApiPropertyOptional({ type: ResizableDto, description: 'Other input sizes it accepts' })
  resizable?: ResizableDto;
  @ApiProperty({ ...OBJECT, description: 'Pixel normalization the backbone expects' })
  normalization!: BackboneSpec['normalization'];
  @ApiProperty() featureLayer!: string;
  @ApiProperty() featureDim!: number;
  @ApiProperty() spatialFeatures!: boolean;
  @ApiProperty() pretrained!: boolean;
  @ApiPropertyOptional() pretrainedOn?: string;
  @ApiProperty({ ...OBJECT, description: 'Where the weights come from' }) source!: BackboneSpec['source'];
  @ApiProperty({ type: LicenseDto }) license!: LicenseDto;
}
