import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { withTenant, type PrismaClient } from '@modelsmith/db';
import { APP_PRISMA } from '@modelsmith/db/nest';
import { CurrentTenant, RequireScope } from '../auth/decorators';
import { generateApiKey, notFound, type TenantPrincipal } from '@modelsmith/http';
import { ServingNotices } from '../notices/serving-notices';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';

@ApiTags('api-keys')
@ApiBearerAuth()
@RequireScope('ADMIN')
@Controller('api-keys')
export class ApiKeysController {
  constructor(
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
    private readonly notices: ServingNotices,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key; the secret is returned only in this response' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  async create(
    @CurrentTenant() p: TenantPrincipal,
    @Body() body: CreateApiKeyDto,
  ): Promise<CreatedApiKeyDto> {
    const g = generateApiKey();
    const row = await withTenant(this.db, p.tenantId, (tx) =>
      tx.apiKey.create({
        data: {
          tenantId: p.tenantId,
          name: body.name,
          prefix: g.prefix,
          secretHash: g.secretHash,
          scopes: body.scopes,
          expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
          rateLimitPerMinute: body.rateLimitPerMinute ?? null,
        },
      }),
    );
    return { ...ApiKeyDto.from(row), key: g.key };
  }

  @Get()
  @ApiOperation({ summary: "List this tenant's API keys (never the secrets)" })
  @ApiOkResponse({ type: ApiKeyDto, isArray: true })
  async list(@CurrentTenant() p: TenantPrincipal): Promise<ApiKeyDto[]> {
    const rows = await withTenant(this.db, p.tenantId, (tx) =>
      tx.apiKey.findMany({ orderBy: { createdAt: 'desc' } }),
    );
    return rows.map(ApiKeyDto.from);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke an API key (it stops working at once)' })
  @ApiOkResponse({ type: ApiKeyDto })
  async revoke(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<ApiKeyDto> {
    const row = await withTenant(this.db, p.tenantId, async (tx) => {
      const key = await tx.apiKey.findUnique({ where: { id } });
      if (!key) return null;
      return key.revokedAt ? key : tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    });
    if (!row) throw notFound('API key', id);
    // The API's own auth reads the row on every request; serving caches lookups and is told here.
    await this.notices.apiKeyRevoked({ tenantId: p.tenantId, keyId: row.id });
    return ApiKeyDto.from(row);
  }
}
