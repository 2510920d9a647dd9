import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentTenant, RequireScope } from '../auth/decorators';
import { forbiddenScope, ProblemError, type TenantPrincipal } from '@modelsmith/http';
import { scopeSatisfies } from '@modelsmith/contracts';
import {
  CreateJobDto,
  JobDto,
  JobEventDto,
  JobEventsQueryDto,
  JobOutputDto,
  JobPageDto,
  ListJobsQueryDto,
} from './dto/job.dto';
import { TrialDto, TrialPageDto } from './dto/trial.dto';
import { PageQueryDto } from '../common/pagination';
import { JobEventStreamService } from './job-event-stream.service';
import { JobsService } from './jobs.service';
import { trainingTaskOf, TrainingJobsService, type TrainingTask } from '../training/training-jobs.service';
import { TrainingEstimateService } from '../training/training-estimate.service';
import { resumeAfter, wantsEventStream } from './sse';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly streams: JobEventStreamService,
    private readonly training: TrainingJobsService,
    private readonly estimates: TrainingEstimateService,
  ) {}

  @Post()
  @HttpCode(202)
  @RequireScope('TRAIN')
  @ApiOperation({
    summary: 'Start a job; returns at once with its id (202)',
    description:
      'With `dryRun: true` nothing is created: an image-classification, text-classification or tabular request is checked like a real one and answered 200 with ' +
      'its estimate (expectedMinutes, firstModelMinutes, computeMinutes, per-phase samples/s (text and tabular: per candidate) and where they come from, quota); ' +
      'a noop request with its duration.',
  })
  @ApiAcceptedResponse({ type: JobDto })
  @ApiOkResponse({ description: 'dryRun: the estimate (docs/jobs.md, "Estimate before training")' })
  async create(
    @CurrentTenant() p: TenantPrincipal,
    @Body() body: CreateJobDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const training = await this.trainingTask(p.tenantId, body);
    if (body.dryRun) {
      res.status(200);
      if (training) return this.estimates.estimate(p.tenantId, { ...body, task: training });
      const minutes = Math.round(((body.options?.durationMs ?? 0) / 60_000) * 10) / 10;
      return {
        dryRun: true,
        task: 'noop',
        expectedMinutes: minutes,
        firstModelMinutes: null,
        computeMinutes: minutes,
      };
    }
    if (training) return JobDto.from(await this.training.create(p.tenantId, { ...body, task: training }));
    return JobDto.from(await this.jobs.create(p.tenantId, body));
  }

  /** The training task the request names or its dataset version implies; undefined for `noop`. */
  private async trainingTask(tenantId: string, body: CreateJobDto): Promise<TrainingTask | undefined> {
    if (body.task !== undefined) return trainingTaskOf(body.task);
    if (!body.datasetVersionId)
      throw new ProblemError({
        status: 422,
        code: 'UNPROCESSABLE',
        title: 'Job rejected',
        detail:
          "name the task (image-classification, text-classification, tabular, tabular-classification, tabular-regression or noop), or give a datasetVersionId to train on its dataset's task",
        extensions: { reason: 'TASK_REQUIRED', field: 'task' },
      });
    return this.training.taskOfVersion(tenantId, body.datasetVersionId);
  }

  @Get()
  @ApiOperation({
    summary: 'List jobs, newest first; filter by status, kind, dataset version and creation time',
  })
  @ApiOkResponse({ type: JobPageDto })
  async list(@CurrentTenant() p: TenantPrincipal, @Query() q: ListJobsQueryDto): Promise<JobPageDto> {
    const result = await this.jobs.list(p.tenantId, q);
    return { items: result.items.map(JobDto.from), nextCursor: result.nextCursor };
  }

  @Get(':id')
  @ApiOkResponse({ type: JobDto })
  async get(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<JobDto> {
    return JobDto.from(await this.jobs.get(p.tenantId, id));
  }

  @Get(':id/trials')
  @ApiOperation({
    summary:
      'Trials of a job in the order they started (image search, text and tabular candidates), paginated',
    description:
      'Each trial is a configuration trained and scored on the validation split: params, status, metrics, ' +
      "per-epoch curves, cost in seconds, and the job's model id on the trial whose model the job kept.",
  })
  @ApiOkResponse({ type: TrialPageDto })
  async trials(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Query() q: PageQueryDto,
  ): Promise<TrialPageDto> {
    const r = await this.jobs.listTrials(p.tenantId, id, q);
    return { items: r.items.map(TrialDto.from), nextCursor: r.nextCursor };
  }

  @Get(':id/output')
  @ApiOperation({
    summary:
      'A presigned download URL of what the job produced (batch predictions: predictions.jsonl or .csv); 409 until it has SUCCEEDED',
  })
  @ApiOkResponse({ type: JobOutputDto })
  output(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<JobOutputDto> {
    return this.jobs.output(p.tenantId, id);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancel a job: queued jobs stop at once, running ones at their next step boundary',
    description:
      'Needs the scope that starts such a job: PREDICT for batch predictions, TRAIN for the others.',
  })
  @ApiAcceptedResponse({ type: JobDto })
  async cancel(@CurrentTenant() p: TenantPrincipal, @Param('id') id: string): Promise<JobDto> {
    const job = await this.jobs.get(p.tenantId, id);
    const scope = job.kind === 'BATCH_PREDICT' ? 'PREDICT' : 'TRAIN';
    if (!scopeSatisfies(p.scopes, scope)) throw forbiddenScope(scope);
    return JobDto.from(await this.jobs.cancel(p.tenantId, id));
  }

  @Get(':id/events')
  @ApiOperation({
    summary: 'Events of a job after a sequence number: JSON for polling, or a Server-Sent Events stream',
    description:
      'With `Accept: text/event-stream` the response is an SSE stream: one message per event (`id: <seq>`, ' +
      '`event: <type>`, `data: <event JSON>`), a comment line every 15 s, ending after the terminal event ' +
      '(succeeded, failed, cancelled). Resume with the `Last-Event-ID` header or `?after=`.',
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume the stream after this sequence number',
  })
  @ApiOkResponse({ type: JobEventDto, isArray: true })
  async events(
    @CurrentTenant() p: TenantPrincipal,
    @Param('id') id: string,
    @Query() q: JobEventsQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.jobs.get(p.tenantId, id);
    if (wantsEventStream(req.headers.accept)) {
      await this.streams.stream(req, res, p.tenantId, id, resumeAfter(req.headers['last-event-id'], q.after));
      return;
    }
    res.json((await this.jobs.events(p.tenantId, id, q.after)).map(JobEventDto.from));
  }
}
