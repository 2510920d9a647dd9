import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { TenantPrincipal } from '@modelsmith/http';
import { CurrentTenant, RequireScope } from '../auth/decorators';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  UpdateWebhookDto,
  WebhookDeliveriesQueryDto,
  WebhookDeliveryPageDto,
  WebhookDto,
  WebhookListDto,
  WebhookTestDto,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

/** Every route needs ADMIN: an endpoint decides where the tenant's events go. */
@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(201)
  @RequireScope('ADMIN')
  @ApiOperation({
    summary: 'Add an endpoint for signed event notifications; the answer holds its secret, shown once',
  })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  create(@CurrentTenant() p: TenantPrincipal, @Body() body: CreateWebhookDto) {
    return this.webhooks.create(p.tenantId, body);
  }

  @Get()
  @RequireScope('ADMIN')
  @ApiOperation({ summary: "The tenant's webhook endpoints (without secrets)" })
  @ApiOkResponse({ type: WebhookListDto })
  async list(@CurrentTenant() p: TenantPrincipal): Promise<WebhookListDto> {
    return { items: await this.webhooks.list(p.tenantId) };
  }

  @Get(':id')
  @RequireScope('ADMIN')
  @ApiOkResponse({ type: WebhookDto })
  get(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string) {
    return this.webhooks.get(p.tenantId, id);
  }

  @Patch(':id')
  @RequireScope('ADMIN')
  @ApiOperation({ summary: 'Change the URL, events, description or enabled flag' })
  @ApiOkResponse({ type: WebhookDto })
  update(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string, @Body() body: UpdateWebhookDto) {
    return this.webhooks.update(p.tenantId, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('ADMIN')
  @ApiOperation({ summary: 'Delete an endpoint; its pending deliveries are dropped' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async delete(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<void> {
    await this.webhooks.delete(p.tenantId, id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @RequireScope('ADMIN')
  @ApiOperation({ summary: 'Send a signed `webhook.test` event to this endpoint (see its delivery log)' })
  @ApiAcceptedResponse({ type: WebhookTestDto })
  test(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<WebhookTestDto> {
    return this.webhooks.test(p.tenantId, id);
  }

  @Get(':id/deliveries')
  @RequireScope('ADMIN')
  @ApiOperation({
    summary: 'Delivery log, newest first: each delivery with its attempts (status code, latency, error)',
  })
  @ApiOkResponse({ type: WebhookDeliveryPageDto })
  deliveries(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Query() q: WebhookDeliveriesQueryDto,
  ): Promise<WebhookDeliveryPageDto> {
    return this.webhooks.deliveries(p.tenantId, id, q);
  }
}
