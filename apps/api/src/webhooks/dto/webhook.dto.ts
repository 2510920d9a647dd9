import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { WEBHOOK_EVENT_TYPES } from '@modelsmith/contracts';
import { PageQueryDto } from '../../common/pagination';

/** Longest endpoint URL accepted. */
export const WEBHOOK_URL_MAX = 2048;

export class CreateWebhookDto {
  @ApiProperty({
    example: 'https://example.com/hooks/modelsmith',
    maxLength: WEBHOOK_URL_MAX,
    description:
      'https or http URL the events are POSTed to. Private, loopback, link-local and metadata addresses are refused unless the operator allows private targets.',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(WEBHOOK_URL_MAX)
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, description: 'Event types to receive' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events!: (typeof WEBHOOK_EVENT_TYPES)[number][];

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ maxLength: WEBHOOK_URL_MAX })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(WEBHOOK_URL_MAX)
  url?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events?: (typeof WEBHOOK_EVENT_TYPES)[number][];

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;

  @ApiPropertyOptional({ description: 'A disabled endpoint receives no events (test-sends still go)' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class WebhookDeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['PENDING', 'SUCCEEDED', 'FAILED'] })
  @IsOptional()
  @IsIn(['PENDING', 'SUCCEEDED', 'FAILED'])
  status?: 'PENDING' | 'SUCCEEDED' | 'FAILED';
}

export class WebhookDto {
  @ApiProperty() id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true }) events!: string[];
  @ApiPropertyOptional({ nullable: true, type: String }) description!: string | null;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({
    description: 'HMAC-SHA256 key of the signatures (docs/webhooks.md). Shown only in this answer.',
  })
  secret!: string;
}

export class WebhookAttemptDto {
  @ApiProperty() attempt!: number;
  @ApiPropertyOptional({ nullable: true, type: Number, description: 'null when no answer came' })
  statusCode!: number | null;
  @ApiProperty() latencyMs!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) error!: string | null;
  @ApiProperty() createdAt!: Date;
}

export class WebhookDeliveryDto {
  @ApiProperty() id!: string;
  @ApiProperty() eventId!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty({ enum: ['PENDING', 'SUCCEEDED', 'FAILED'] }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty() createdAt!: Date;
  @ApiPropertyOptional({ nullable: true, type: Date }) finishedAt!: Date | null;
  @ApiProperty({ type: WebhookAttemptDto, isArray: true }) log!: WebhookAttemptDto[];
}

export class WebhookListDto {
  @ApiProperty({ type: [WebhookDto] }) items!: WebhookDto[];
}

export class WebhookDeliveryPageDto {
  @ApiProperty({ type: [WebhookDeliveryDto] }) items!: WebhookDeliveryDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}

export class WebhookTestDto {
  @ApiProperty() eventId!: string;
  @ApiProperty({ description: 'Follow it in GET /v1/webhooks/{id}/deliveries' }) deliveryId!: string;
}
