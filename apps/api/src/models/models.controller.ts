import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentTenant, RequireScope } from '../auth/decorators';
import type { TenantPrincipal } from '@modelsmith/http';
import { MIN_TRAIN_IMAGES_PER_CLASS } from '@modelsmith/jobs';
import { PageQueryDto } from '../common/pagination';
import { PredictRateLimitGuard } from '../rate-limit/predict-rate-limit.guard';
import { JobDto } from '../jobs/dto/job.dto';
import { BatchPredictionsService } from './batch-predictions.service';
import { CleanModelService } from './clean-model.service';
import { CleanModelDto, CleanModelResultDto } from './dto/clean-model.dto';
import { ModelDetailDto, ModelDownloadDto, ModelPageDto, ModelSummaryDto } from './dto/model.dto';
import { ModelsService } from './models.service';

@ApiTags('models')
@ApiBearerAuth()
@Controller('models')
export class ModelsController {
  constructor(
    private readonly models: ModelsService,
    private readonly batch: BatchPredictionsService,
    private readonly cleaner: CleanModelService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List trained models, newest first' })
  @ApiOkResponse({ type: ModelPageDto })
  async list(@CurrentTenant() p: TenantPrincipal, @Query() q: PageQueryDto): Promise<ModelPageDto> {
    const r = await this.models.list(p.tenantId, q.limit, q.cursor);
    return { items: r.items.map((m) => ModelSummaryDto.from(m)), nextCursor: r.nextCursor };
  }

  @Get(':id')
  @ApiOperation({
    summary:
      'A model with its evaluation report, training curves, manifest and lineage (dataset version, job, recipe)',
  })
  @ApiOkResponse({ type: ModelDetailDto })
  async get(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<ModelDetailDto> {
    return ModelDetailDto.detail(await this.models.get(p.tenantId, id));
  }

  @Post(':id/download')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'A presigned URL of one zip: tfjs model.json + weights, manifest.json, evaluation report and training curves',
  })
  @ApiOkResponse({ type: ModelDownloadDto })
  download(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<ModelDownloadDto> {
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
  @ApiAcceptedResponse({ type: JobDto })
  async batchPredict(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Req() req: Request,
  ): Promise<JobDto> {
    return JobDto.from(await this.batch.create(p.tenantId, id, req));
  }

  @Post(':id/clean')
  @HttpCode(201)
  @RequireScope('TRAIN')
  @ApiOperation({
    summary:
      "A cleaned dataset version (the model's suspected mislabeled training samples removed, or the samples and label fixes given) and a retrain on it",
    description:
      "Reads the model's label-quality report (training dynamics: AUM; for pretrained backbones also a held-out margin that must agree; " +
      'see GET /v1/models/:id `report.labelQuality`). ' +
      'Body (all optional): removeSuspected (default true when neither remove nor relabel is given), maxSuspects, ' +
      "remove (sample ids), relabel ([{sampleId, label}]), retrain (default true), mode, budget (default: the model job's). " +
      "The new version has the model's version as parent, shares its shards, and is READY at once. " +
      `Suspects are removed or relabeled most suspect first only while their class keeps at least ${MIN_TRAIN_IMAGES_PER_CLASS} training images (the minimum to train); ` +
      'the others are left as they are and listed in `kept` ({ sampleId, label, reason }). The samples named in remove and relabel are not capped. ' +
      'Returns { datasetVersion, removed, relabeled, kept, job } (job null with retrain false). 422 UNPROCESSABLE for an unknown sample id or label, ' +
      'a model without a label-quality report, nothing to clean (also when every suspect is kept), or a cleaned version the training rejects ' +
      '(e.g. TOO_FEW_IMAGES after the named removals; the version is kept, and the problem names it in datasetVersionId).',
  })
  @ApiCreatedResponse({ type: CleanModelResultDto })
  async clean(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Body() body: CleanModelDto,
  ): Promise<CleanModelResultDto> {
    const r = await this.cleaner.clean(p.tenantId, id, body);
    const v = r.datasetVersion;
    return {
      datasetVersion: {
        id: v.id,
        datasetId: v.datasetId,
        version: v.version,
        status: v.status,
        parentVersionId: v.parentVersionId!,
        stats: v.stats,
      },
      removed: r.removed,
      relabeled: r.relabeled,
      kept: r.kept,
      job: r.job ? JobDto.from(r.job) : null,
    };
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('TRAIN')
  @ApiOperation({ summary: 'Delete a model and its artifacts' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async delete(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<void> {
    await this.models.delete(p.tenantId, id);
  }
}
