import { Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import type { PrismaClient } from '@modelsmith/db';
import { SYSTEM_PRISMA } from '@modelsmith/db/nest';
import { OperatorOnly } from '../auth/decorators';
import { ProblemError } from '@modelsmith/http';
import { PageQueryDto, page } from '../common/pagination';
import { ApiKeyDto, CreatedApiKeyDto } from '../api-keys/dto/api-key.dto';
import { CreateTenantDto, TenantDto, TenantPageDto } from './dto/create-tenant.dto';
import { createTenantWithKey, TenantSlugTakenError } from './create-tenant';

class CreatedTenantDto {
  @ApiProperty({ type: TenantDto }) tenant!: TenantDto;
  @ApiProperty({ type: CreatedApiKeyDto, description: 'The first ADMIN key; its secret is shown only here' })
  apiKey!: CreatedApiKeyDto;
}

const toTenantDto = (t: TenantDto): TenantDto => ({
  id: t.id,
  name: t.name,
  slug: t.slug,
  status: t.status,
  maxConcurrentJobs: t.maxConcurrentJobs,
  computeMinutesPerMonth: t.computeMinutesPerMonth,
  createdAt: t.createdAt,
});

/** Operator routes (ADMIN_TOKEN): create tenants with their first ADMIN key, list tenants. */
@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('admin/tenants')
export class TenantsController {
  constructor(@Inject(SYSTEM_PRISMA) private readonly db: PrismaClient) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a tenant and its first ADMIN API key (the key is shown once)' })
  @ApiCreatedResponse({ type: CreatedTenantDto })
  async create(@Body() body: CreateTenantDto): Promise<CreatedTenantDto> {
    try {
      const created = await createTenantWithKey(this.db, body);
      return {
        tenant: toTenantDto(created.tenant),
        apiKey: { ...ApiKeyDto.from(created.apiKey), key: created.key },
      };
    } catch (e) {
      if (e instanceof TenantSlugTakenError)
        throw new ProblemError({ status: 409, code: 'CONFLICT', title: 'Slug taken', detail: e.message });
      throw e;
    }
  }

  @Get()
  @ApiOperation({ summary: 'List tenants' })
  @ApiOkResponse({ type: TenantPageDto })
  async list(@Query() q: PageQueryDto): Promise<TenantPageDto> {
    const rows = await this.db.tenant.findMany({
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: q.limit + 1,
      ...(q.cursor ? { cursor: { id: q.cursor }, skip: 1 } : {}),
    });
    return page(rows.map(toTenantDto), q.limit);
  }
}
