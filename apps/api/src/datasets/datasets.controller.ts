import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentTenant, RequireScope } from '../auth/decorators';
import { ProblemError, type TenantPrincipal } from '@modelsmith/http';
import { PageQueryDto } from '../common/pagination';
import {
  CreateDatasetDto,
  DatasetDetailDto,
  DatasetDto,
  DatasetPageDto,
  DatasetVersionDto,
  QueuedVersionDto,
  VersionPreviewDto,
  VersionReportDto,
} from './dto/dataset.dto';
import { DatasetsService } from './datasets.service';

@ApiTags('datasets')
@ApiBearerAuth()
@Controller('datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Post()
  @HttpCode(201)
  @RequireScope('TRAIN')
  @ApiOperation({ summary: 'Create an (empty) dataset; upload data as versions' })
  @ApiCreatedResponse({ type: DatasetDto })
  async create(@CurrentTenant() p: TenantPrincipal, @Body() body: CreateDatasetDto): Promise<DatasetDto> {
    return DatasetDto.from(await this.datasets.create(p.tenantId, body));
  }

  @Get()
  @ApiOperation({ summary: 'List datasets, newest first, with their latest version' })
  @ApiOkResponse({ type: DatasetPageDto })
  async list(@CurrentTenant() p: TenantPrincipal, @Query() q: PageQueryDto): Promise<DatasetPageDto> {
    const r = await this.datasets.list(p.tenantId, q.limit, q.cursor);
    return { items: r.items.map((d) => DatasetDto.from(d, d.versions[0])), nextCursor: r.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A dataset with all its versions' })
  @ApiOkResponse({ type: DatasetDetailDto })
  async get(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<DatasetDetailDto> {
    const d = await this.datasets.get(p.tenantId, id);
    return { ...DatasetDto.from(d, d.versions[0]), versions: d.versions.map(DatasetVersionDto.from) };
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('TRAIN')
  @ApiOperation({ summary: 'Delete a dataset, all its versions and their stored objects' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async delete(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<void> {
    await this.datasets.delete(p.tenantId, id);
  }

  @Post(':id/versions')
  @HttpCode(202)
  @RequireScope('TRAIN')
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    description:
      'Text fields first (all optional: format, target, textColumn, labelColumn, splitColumn, imageSize, channels, fit, splitSeed, parentVersionId), then one part named `file`: a zip or tar.gz of class folders (optionally with labels.csv), a text CSV/JSONL, or a tabular CSV. Streams to the object store; ingestion runs as a job.',
    schema: {
      type: 'object',
      properties: { format: { type: 'string' }, file: { type: 'string', format: 'binary' } },
      required: ['file'],
    },
  })
  @ApiAcceptedResponse({
    type: QueuedVersionDto,
    description: 'The new version (QUEUED) and the id of its ingestion job',
  })
  async upload(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Req() req: Request,
  ): Promise<QueuedVersionDto> {
    const { version, jobId } = await this.datasets.uploadVersion(p.tenantId, id, req);
    return { version: DatasetVersionDto.from(version), jobId };
  }

  @Get(':id/versions/:versionId')
  @ApiOkResponse({ type: DatasetVersionDto })
  async version(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Param('versionId') versionId: string,
  ): Promise<DatasetVersionDto> {
    return DatasetVersionDto.from(await this.datasets.version(p.tenantId, id, versionId));
  }

  @Get(':id/versions/:versionId/report')
  @ApiOperation({
    summary:
      'The full ingestion report: classes, splits, sizes, skipped files with reasons, duplicates, conflicts, warnings; ' +
      'labelQuality: the suspected mislabeled samples of the newest model trained on the version (or null)',
  })
  @ApiOkResponse({ type: VersionReportDto })
  async report(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Param('versionId') versionId: string,
  ): Promise<VersionReportDto> {
    const v = await this.datasets.version(p.tenantId, id, versionId);
    if (v.status === 'FAILED' || v.status === 'CANCELLED')
      return { status: v.status, failureCode: v.failureCode, failureReason: v.failureReason, report: null };
    if (v.status !== 'READY') {
      throw new ProblemError({
        status: 409,
        code: 'CONFLICT',
        title: 'Report not ready',
        detail: `version ${v.version} is ${v.status} (${Math.round(v.percent)}%)`,
      });
    }
    return {
      status: v.status,
      report: v.report,
      labelQuality: await this.datasets.labelQuality(p.tenantId, v.id),
    };
  }

  @Get(':id/versions/:versionId/preview')
  @ApiOperation({ summary: 'A few preprocessed samples per class, as presigned thumbnail URLs' })
  @ApiOkResponse({ type: VersionPreviewDto })
  preview(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Param('versionId') versionId: string,
  ): Promise<VersionPreviewDto> {
    return this.datasets.preview(p.tenantId, id, versionId);
  }
}
