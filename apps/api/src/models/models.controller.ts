import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { ApiBearerAuth, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { TypedModel } from '@modelsmith/jobs';
import { CurrentTenant, RequireScope } from '../auth/decorators';
import type { TenantPrincipal } from '@modelsmith/http';
import { PageQueryDto } from '../common/pagination';
import { PredictRateLimitGuard } from '../rate-limit/predict-rate-limit.guard';
import { JobDto } from '../jobs/dto/job.dto';
import { BatchPredictionsService } from './batch-predictions.service';
import { ModelsService } from './models.service';

function summary(m: TypedModel) {
  return {
    id: m.id,
    name: m.name,
    task: m.task,
    backbone: m.backbone,
    metrics: m.metrics,
    sizeBytes: m.sizeBytes === null ? null : Number(m.sizeBytes),
    jobId: m.jobId,
    datasetVersionId: m.datasetVersionId,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

@ApiTags('models')
@ApiBearerAuth()
@Controller('models')
export class ModelsController {
  constructor(
    private readonly models: ModelsService,
    private readonly batch: BatchPredictionsService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List trained models, newest first' })
  async list(@CurrentTenant() p: TenantPrincipal, @Query() q: PageQueryDto) {
    const r = await this.models.list(p.tenantId, q.limit, q.cursor);
    return { items: r.items.map(summary), nextCursor: r.nextCursor };
  }

  @Get(':id')
  @ApiOperation({
    summary:
      'A model with its evaluation report, training curves, manifest and lineage (dataset version, job, recipe)',
  })
  async get(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string) {
    const m = await this.models.get(p.tenantId, id);
    return {
      ...summary(m),
      manifest: m.manifest,
      report: m.report,
      trainingCurves: m.job?.metricHistory ?? null,
      lineage: {
        datasetVersion: m.datasetVersion,
        job: m.job ? { id: m.job.id, mode: m.job.mode, budget: m.job.budget, options: m.job.options } : null,
        recipe: m.recipe,
      },
    };
  }

  @Post(':id/download')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'A presigned URL of one zip: tfjs model.json + weights, manifest.json, evaluation report and training curves',
  })
  download(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string) {
    return this.models.download(p.tenantId, id);
  }

  @Post(':id/batch-predictions')
  @HttpCode(202)
  @RequireScope('PREDICT')
  @UseGuards(PredictRateLimitGuard)
  @ApiConsumes('multipart/form-data')
  @ApiOperation({
    summary: 'Predict every image of an archive (zip or tar.gz) as a job; the output is a JSONL or CSV file',
    description:
      'multipart/form-data: optional fields `format` (jsonl | csv, default jsonl) and `topK` (default 3) BEFORE the `file` part. ' +
      "Counts as one request against the key's prediction rate (429 RATE_LIMITED with Retry-After over it). " +
      'Returns the BATCH_PREDICT job (202); follow it with GET /v1/jobs/:id (or its events) and fetch the result with GET /v1/jobs/:id/output.',
  })
  async batchPredict(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Req() req: Request,
  ): Promise<JobDto> {
    return JobDto.from(await this.batch.create(p.tenantId, id, req));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('TRAIN')
  @ApiOperation({ summary: 'Delete a model and its artifacts' })
  async delete(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<void> {
    await this.models.delete(p.tenantId, id);
  }
}
