import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentTenant, RequireScope } from '../auth/decorators';
import type { TenantPrincipal } from '../auth/principal';
import { CreateJobDto, JobDto, JobEventDto, JobEventsQueryDto, ListJobsQueryDto } from './dto/job.dto';
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @HttpCode(202)
  @RequireScope('TRAIN')
  @ApiOperation({ summary: 'Start a job; returns at once with its id (202)' })
  @ApiAcceptedResponse({ type: JobDto })
  async create(@CurrentTenant() p: TenantPrincipal, @Body() body: CreateJobDto): Promise<JobDto> {
    return JobDto.from(await this.jobs.create(p.tenantId, body));
  }

  @Get()
  @ApiOperation({ summary: 'List jobs, newest first' })
  async list(@CurrentTenant() p: TenantPrincipal, @Query() q: ListJobsQueryDto) {
    const result = await this.jobs.list(p.tenantId, q);
    return { items: result.items.map(JobDto.from), nextCursor: result.nextCursor };
  }

  @Get(':id')
  @ApiOkResponse({ type: JobDto })
  async get(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<JobDto> {
    return JobDto.from(await this.jobs.get(p.tenantId, id));
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @RequireScope('TRAIN')
  @ApiOperation({ summary: 'Cancel a job: queued jobs stop at once, running ones at their next step boundary' })
  async cancel(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<JobDto> {
    return JobDto.from(await this.jobs.cancel(p.tenantId, id));
  }

  @Get(':id/events')
  @ApiOperation({ summary: 'Poll the persisted events of a job after a sequence number' })
  @ApiOkResponse({ type: JobEventDto, isArray: true })
  async events(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string, @Query() q: JobEventsQueryDto): Promise<JobEventDto[]> {
    await this.jobs.get(p.tenantId, id);
    return (await this.jobs.events(p.tenantId, id, q.after)).map(JobEventDto.from);
  }
}
