import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { Prisma, withTenant, type Deployment, type Model, type PrismaClient } from '@modelsmith/db';
import { APP_PRISMA } from '@modelsmith/db/nest';
import { notFound, ProblemError } from '@modelsmith/http';
import { deploymentEventData, deploymentTuningSchema, recordWebhookEvent } from '@modelsmith/jobs';
import { searchServingConfig } from '@modelsmith/serving/serving-search';
import { page } from '../common/pagination';
import { assertServable } from '../models/servable-model';
import type {
  CreateDeploymentDto,
  DeploymentConfigDto,
  DeploymentQueryDto,
  DeploymentViewDto,
  UpdateDeploymentDto,
} from './dto/deployment.dto';
import { ServingNotices } from '../notices/serving-notices';
import type { DeploymentTuningDto, TuneDeploymentDto } from './dto/tuning.dto';
import { ServingCalibrator, type ServingCalibration } from './serving-calibrator';

type Tx = Prisma.TransactionClient;
type WithModel = Deployment & {
  model: Pick<Model, 'id' | 'name' | 'backbone' | 'metrics' | 'status' | 'createdAt'>;
};

/** Requests simulated per configuration the search tries (the search runs in the API process). */
const SEARCH_REQUESTS = 10_000;

const MODEL_SUMMARY = {
  select: { id: true, name: true, backbone: true, metrics: true, status: true, createdAt: true },
} as const;

const inactive = (id: string) =>
  new ProblemError({
    status: 409,
    code: 'CONFLICT',
    title: 'Deployment is not active',
    detail: `deployment ${id} is undeployed; POST /v1/deployments/${id}/activate first`,
  });

@Injectable()
export class DeploymentsService {
  constructor(
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly notices: ServingNotices,
    private readonly calibrator: ServingCalibrator,
  ) {}

  /** Where clients send predictions for a deployment (the serving app). */
  predictUrl(id: string): string {
    const base =
      this.config.SERVING_PUBLIC_URL ?? `http://${this.config.SERVING_HOST}:${this.config.SERVING_PORT}`;
    return `${base.replace(/\/+$/, '')}/v1/deployments/${id}/predict`;
  }

  view(d: WithModel): DeploymentViewDto {
    return {
      id: d.id,
      name: d.name,
      status: d.status,
      modelId: d.modelId,
      model: {
        id: d.model.id,
        name: d.model.name,
        status: d.model.status,
        backbone: d.model.backbone,
        metrics: d.model.metrics,
        createdAt: d.model.createdAt,
      },
      config: (d.config ?? {}) as DeploymentConfigDto,
      tuning: (d.tuning ?? null) as DeploymentTuningDto | null,
      predictUrl: this.predictUrl(d.id),
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
    };
  }

  async create(tenantId: string, body: CreateDeploymentDto): Promise<WithModel> {
    if ((body.slo === undefined) !== (body.expectedLoad === undefined))
      throw new ProblemError({
        status: 400,
        code: 'VALIDATION_FAILED',
        title: 'Invalid request',
        detail: 'slo and expectedLoad go together: the serving search needs both (or neither)',
        extensions: {
          errors: [
            { field: body.slo === undefined ? 'slo' : 'expectedLoad', messages: ['required with the other'] },
          ],
        },
      });
    // Tuned before the row is written: an infeasible objective (422) creates nothing.
    const tuning =
      body.slo && body.expectedLoad
        ? await this.tuneModel(tenantId, body.modelId, { slo: body.slo, expectedLoad: body.expectedLoad })
        : null;
    const created = await withTenant(this.db, tenantId, async (tx) => {
      const model = await this.servableModel(tx, body.modelId);
      const d = await tx.deployment.create({
        data: {
          tenantId,
          modelId: model.id,
          name: body.name ?? model.name,
          status: 'ACTIVE',
          config: { ...body.config },
          ...(tuning ? { tuning: tuning as unknown as Prisma.InputJsonValue } : {}),
        },
        include: { model: MODEL_SUMMARY },
      });
      await recordWebhookEvent(tx, tenantId, 'deployment.created', deploymentEventData(d));
      return d;
    });
    await this.notices.deploymentChanged({ tenantId, deploymentId: created.id });
    return created;
  }

  list(tenantId: string, q: DeploymentQueryDto) {
    return withTenant(this.db, tenantId, async (tx) =>
      page(
        await tx.deployment.findMany({
          where: q.status ? { status: q.status } : {},
          include: { model: MODEL_SUMMARY },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          take: q.limit + 1,
          ...(q.cursor ? { cursor: { id: q.cursor }, skip: 1 } : {}),
        }),
        q.limit,
      ),
    );
  }

  async get(tenantId: string, id: string): Promise<WithModel> {
    const found = await withTenant(this.db, tenantId, (tx) =>
      tx.deployment.findFirst({ where: { id }, include: { model: MODEL_SUMMARY } }),
    );
    if (!found) throw notFound('deployment', id);
    return found;
  }

  /** Renames, reconfigures or swaps the model of an ACTIVE deployment. */
  async update(tenantId: string, id: string, body: UpdateDeploymentDto): Promise<WithModel> {
    const updated = await withTenant(this.db, tenantId, async (tx) => {
      const current = await tx.deployment.findFirst({ where: { id } });
      if (!current) throw notFound('deployment', id);
      if (current.status !== 'ACTIVE') throw inactive(id);
      const model =
        body.modelId && body.modelId !== current.modelId
          ? await this.servableModel(tx, body.modelId)
          : undefined;
      const d = await tx.deployment.update({
        where: { id },
        data: {
          // A tuning was calibrated on the previous model: it no longer applies (tune again).
          ...(model ? { modelId: model.id, tuning: Prisma.DbNull } : {}),
          ...(body.name ? { name: body.name } : {}),
          ...(body.config
            ? { config: { ...((current.config as object | null) ?? {}), ...body.config } }
            : {}),
        },
        include: { model: MODEL_SUMMARY },
      });
      await recordWebhookEvent(tx, tenantId, 'deployment.updated', {
        ...deploymentEventData(d),
        previousModelId: current.modelId,
      });
      return d;
    });
    await this.notices.deploymentChanged({ tenantId, deploymentId: id });
    return updated;
  }

  /**
   * Runs the serving search for a deployment (calibrating its model first unless its stored tuning
   * already holds a calibration of this model version) and stores the answer, which the serving app
   * applies (batch size and wait). An objective the search cannot meet answers 422 and changes nothing.
   */
  async tune(tenantId: string, id: string, body: TuneDeploymentDto): Promise<WithModel> {
    const current = await this.get(tenantId, id);
    if (current.status !== 'ACTIVE') throw inactive(id);
    const tuning = await this.tuneModel(tenantId, current.modelId, body, current.tuning);
    const updated = await withTenant(this.db, tenantId, async (tx) => {
      const { count } = await tx.deployment.updateMany({
        where: { id, modelId: current.modelId },
        data: { tuning: tuning as unknown as Prisma.InputJsonValue },
      });
      if (count === 0)
        throw new ProblemError({
          status: 409,
          code: 'CONFLICT',
          title: 'Deployment changed',
          detail: `deployment ${id} was changed or deleted while it was being tuned; tune it again`,
        });
      const d = await tx.deployment.findFirstOrThrow({ where: { id }, include: { model: MODEL_SUMMARY } });
      await recordWebhookEvent(tx, tenantId, 'deployment.updated', {
        ...deploymentEventData(d),
        previousModelId: current.modelId,
      });
      return d;
    });
    await this.notices.deploymentChanged({ tenantId, deploymentId: id });
    return updated;
  }

  private async tuneModel(
    tenantId: string,
    modelId: string,
    body: TuneDeploymentDto,
    previous: unknown = null,
  ): Promise<DeploymentTuningDto> {
    const model = await withTenant(this.db, tenantId, (tx) =>
      tx.model.findFirst({ where: { id: modelId, status: 'READY' } }),
    );
    if (!model) throw notFound('model', modelId);
    if (model.task !== 'IMAGE_CLASSIFICATION' || !model.artifactPrefix)
      throw new ProblemError({
        status: 422,
        code: 'UNPROCESSABLE',
        title: 'Model cannot be tuned',
        detail: `the serving search tunes the micro-batching of image-classification models; model ${model.id} is a ${model.task.toLowerCase().replace(/_/g, '-')} model`,
        extensions: { reason: 'MODEL_NOT_TUNABLE' },
      });
    const modelVersion = model.updatedAt.toISOString();
    const stored = deploymentTuningSchema.safeParse(previous);
    const reuse =
      stored.success && stored.data.modelId === model.id && stored.data.modelVersion === modelVersion
        ? (stored.data.calibration as ServingCalibration | undefined)
        : undefined;
    // A calibration from before the request cost was measured is taken again.
    const calibration =
      reuse?.passes?.length && typeof reuse.requestMs === 'number'
        ? reuse
        : await this.calibrator.calibrate(model.artifactPrefix);
    const costs = calibration.passes.map((p) => ({ size: p.size, passMs: p.passMs }));
    const outcome = searchServingConfig({
      p99Ms: body.slo.p99Ms,
      rps: body.expectedLoad.rps,
      costs,
      requestMs: calibration.requestMs,
      maxBatchSize: Math.min(this.config.SERVING_MAX_BATCH_SIZE, Math.max(...costs.map((c) => c.size))),
      maxReplicas: body.maxReplicas ?? 16,
      requests: SEARCH_REQUESTS,
      seed: 1,
    });
    // 0.1 ms steps, 0.01 below 1 ms (a tiny model's p50 would read 0).
    const r1 = (v: number) => (v < 1 ? Math.round(v * 100) / 100 : Math.round(v * 10) / 10);
    if (!outcome.feasible) {
      const { best } = outcome;
      throw new ProblemError({
        status: 422,
        code: 'UNPROCESSABLE',
        title: 'Latency objective cannot be met',
        detail: `p99 <= ${body.slo.p99Ms} ms at ${body.expectedLoad.rps} requests/s: ${outcome.reason}`,
        extensions: {
          reason: 'SLO_INFEASIBLE',
          bestAchievable: {
            p99Ms: r1(best.predicted.p99Ms),
            maxBatchSize: best.maxBatchSize,
            maxBatchWaitMs: best.maxBatchWaitMs,
            replicas: best.replicas,
          },
          calibration: calibration.passes,
        },
      });
    }
    const { choice } = outcome;
    return {
      slo: { p99Ms: body.slo.p99Ms },
      expectedLoad: { rps: body.expectedLoad.rps },
      maxBatchSize: choice.maxBatchSize,
      maxBatchWaitMs: choice.maxBatchWaitMs,
      replicas: choice.replicas,
      predicted: {
        p50Ms: r1(choice.predicted.p50Ms),
        p99Ms: r1(choice.predicted.p99Ms),
        utilisation: Math.round(choice.predicted.utilisation * 1000) / 1000,
        meanBatchSize: r1(choice.predicted.meanBatchSize),
      },
      modelId: model.id,
      modelVersion,
      calibration,
      tunedAt: new Date().toISOString(),
    };
  }

  async setStatus(tenantId: string, id: string, status: 'ACTIVE' | 'INACTIVE'): Promise<WithModel> {
    const updated = await withTenant(this.db, tenantId, async (tx) => {
      const current = await tx.deployment.findFirst({ where: { id } });
      if (!current) throw notFound('deployment', id);
      if (status === 'ACTIVE') await this.servableModel(tx, current.modelId);
      const d = await tx.deployment.update({
        where: { id },
        data: { status },
        include: { model: MODEL_SUMMARY },
      });
      if (current.status !== status)
        await recordWebhookEvent(
          tx,
          tenantId,
          status === 'ACTIVE' ? 'deployment.activated' : 'deployment.deactivated',
          deploymentEventData(d),
        );
      return d;
    });
    await this.notices.deploymentChanged({ tenantId, deploymentId: id });
    return updated;
  }

  async delete(tenantId: string, id: string): Promise<void> {
    const deleted = await withTenant(this.db, tenantId, async (tx) => {
      const current = await tx.deployment.findFirst({ where: { id } });
      if (!current) return false;
      const { count } = await tx.deployment.deleteMany({ where: { id } });
      if (count === 0) return false;
      await recordWebhookEvent(tx, tenantId, 'deployment.deleted', deploymentEventData(current));
      return true;
    });
    if (!deleted) throw notFound('deployment', id);
    await this.notices.deploymentChanged({ tenantId, deploymentId: id });
  }

  /** The model, if it exists for the tenant (404), is READY (404) and can be served online (422). */
  private async servableModel(tx: Tx, modelId: string): Promise<Model> {
    // Shares the row lock a model delete takes: a delete and a deploy of the same model serialize,
    // so a deployment never points at a model deleted concurrently (the delete sees it and answers 409).
    await tx.$queryRaw`SELECT id FROM models WHERE id = ${modelId} FOR SHARE`;
    const model = await tx.model.findFirst({ where: { id: modelId, status: 'READY' } });
    if (!model) throw notFound('model', modelId);
    assertServable(model, 'online');
    return model;
  }
}
