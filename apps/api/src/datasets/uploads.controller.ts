import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentTenant, RequireScope } from '../auth/decorators';
import type { TenantPrincipal } from '@modelsmith/http';
import { DatasetVersionDto, QueuedVersionDto } from './dto/dataset.dto';
import { CompleteUploadDto, CreatedUploadDto, CreateUploadDto, UploadStatusDto } from './dto/upload.dto';
import { DatasetsService } from './datasets.service';

/** Presigned multipart uploads: the client PUTs parts straight to the object store and can resume. */
@ApiTags('datasets')
@ApiBearerAuth()
@RequireScope('TRAIN')
@Controller()
export class UploadsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Post('datasets/:id/uploads')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Start a presigned multipart upload: returns part size and one presigned PUT URL per part',
  })
  @ApiCreatedResponse({ type: CreatedUploadDto })
  async create(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Body() body: CreateUploadDto,
  ): Promise<CreatedUploadDto> {
    const r = await this.datasets.createUpload(p.tenantId, id, body);
    return {
      uploadId: r.upload.id,
      datasetVersionId: r.version.id,
      partSize: r.partSize,
      partCount: r.partCount,
      parts: r.parts,
    };
  }

  @Get('uploads/:uploadId')
  @ApiOperation({ summary: 'Resume: the parts already received and fresh URLs for every part' })
  @ApiOkResponse({ type: UploadStatusDto })
  async status(
    @CurrentTenant() p: TenantPrincipal,
    @Param('uploadId') uploadId: string,
  ): Promise<UploadStatusDto> {
    const r = await this.datasets.uploadStatus(p.tenantId, uploadId);
    const received = r.received.map(({ partNumber, etag, size }) => ({ partNumber, etag, size }));
    return { uploadId, status: r.upload.status, received, parts: r.parts };
  }

  @Post('uploads/:uploadId/complete')
  @HttpCode(202)
  @ApiOperation({ summary: 'Assemble the parts and queue the ingestion of the new dataset version' })
  @ApiAcceptedResponse({ type: QueuedVersionDto })
  async complete(
    @CurrentTenant() p: TenantPrincipal,
    @Param('uploadId') uploadId: string,
    @Body() body: CompleteUploadDto,
  ): Promise<QueuedVersionDto> {
    const { version, jobId } = await this.datasets.completeUpload(p.tenantId, uploadId, body.parts);
    return { version: DatasetVersionDto.from(version), jobId };
  }

  @Delete('uploads/:uploadId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Abort the upload; its parts and the pending version are discarded' })
  @ApiNoContentResponse({ description: 'Aborted' })
  async abort(@CurrentTenant() p: TenantPrincipal, @Param('uploadId') uploadId: string): Promise<void> {
    await this.datasets.abortUpload(p.tenantId, uploadId);
  }
}
