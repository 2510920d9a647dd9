import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
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
  CreateDeploymentDto,
  DeploymentPageDto,
  DeploymentQueryDto,
  DeploymentViewDto,
  UpdateDeploymentDto,
} from './dto/deployment.dto';
import { TuneDeploymentDto } from './dto/tuning.dto';
import { DeploymentsService } from './deployments.service';

@ApiTags('deployments')
@ApiBearerAuth()
@Controller('deployments')
export class DeploymentsController {
  constructor(private readonly deployments: DeploymentsService) {}

  @Post()
  @HttpCode(201)
  @RequireScope('TRAIN')
  @ApiOperation({
    summary: 'Deploy a model: ACTIVE at once; predictions go to its predictUrl (the serving app)',
  })
  @ApiCreatedResponse({ type: DeploymentViewDto })
  async create(@CurrentTenant() p: TenantPrincipal, @Body() body: CreateDeploymentDto) {
    return this.deployments.view(await this.deployments.create(p.tenantId, body));
  }

  @Get()
  @ApiOperation({ summary: 'List deployments, newest first' })
  @ApiOkResponse({ type: DeploymentPageDto })
  async list(@CurrentTenant() p: TenantPrincipal, @Query() q: DeploymentQueryDto) {
    const r = await this.deployments.list(p.tenantId, q);
    return { items: r.items.map((d) => this.deployments.view(d)), nextCursor: r.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A deployment with its model and predictUrl' })
  @ApiOkResponse({ type: DeploymentViewDto })
  async get(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string) {
    return this.deployments.view(await this.deployments.get(p.tenantId, id));
  }

  @Patch(':id')
  @RequireScope('TRAIN')
  @ApiOperation({
    summary:
      'Rename, reconfigure, or swap the model (serving loads the new model before it answers; no request fails)',
  })
  @ApiOkResponse({ type: DeploymentViewDto })
  async update(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Body() body: UpdateDeploymentDto,
  ) {
    return this.deployments.view(await this.deployments.update(p.tenantId, id, body));
  }

  @Post(':id/tune')
  @HttpCode(200)
  @RequireScope('TRAIN')
  @ApiOperation({
    summary:
      "Serving search: calibrate the model's pass cost per batch size, then choose the batch size, wait and replicas that meet slo.p99Ms at expectedLoad.rps (fewest replicas, then lowest p99); the serving app applies batch size and wait. 422 with the best achievable p99 when the objective cannot be met.",
  })
  @ApiOkResponse({ type: DeploymentViewDto })
  async tune(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string, @Body() body: TuneDeploymentDto) {
    return this.deployments.view(await this.deployments.tune(p.tenantId, id, body));
  }

  @Post(':id/undeploy')
  @HttpCode(200)
  @RequireScope('TRAIN')
  @ApiOperation({
    summary: 'Stop serving (INACTIVE); predict answers 409 until activated again. Idempotent.',
  })
  @ApiOkResponse({ type: DeploymentViewDto })
  async undeploy(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string) {
    return this.deployments.view(await this.deployments.setStatus(p.tenantId, id, 'INACTIVE'));
  }

  @Post(':id/activate')
  @HttpCode(200)
  @RequireScope('TRAIN')
  @ApiOperation({ summary: 'Serve again (ACTIVE); the model must still be READY. Idempotent.' })
  @ApiOkResponse({ type: DeploymentViewDto })
  async activate(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string) {
    return this.deployments.view(await this.deployments.setStatus(p.tenantId, id, 'ACTIVE'));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('TRAIN')
  @ApiOperation({ summary: 'Delete a deployment' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async delete(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<void> {
    await this.deployments.delete(p.tenantId, id);
  }
}
