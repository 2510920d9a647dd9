import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { withTenant, type Deployment, type Model, type Prisma, type PrismaClient } from '@modelsmith/db';
import { APP_PRISMA } from '@modelsmith/db/nest';
import { notFound, ProblemError } from '@modelsmith/http';
import { deploymentEventData, recordWebhookEvent } from '@modelsmith/jobs';
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

type Tx = Prisma.TransactionClient;
type WithModel = Deployment & {
  model: Pick<Model, 'id' | 'name' | 'backbone' | 'metrics' | 'status' | 'createdAt'>;
};

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
      predictUrl: this.predictUrl(d.id),
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
    };
  }

  async create(tenantId: string, body: CreateDeploymentDto): Promise<WithModel> {
    const created = await withTenant(this.db, tenantId, async (tx) => {
      const model = await this.servableModel(tx, body.modelId);
      const d = await tx.deployment.create({
        data: {
          tenantId,
          modelId: model.id,
          name: body.name ?? model.name,
          status: 'ACTIVE',
          config: { ...body.config },
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
          ...(model ? { modelId: model.id } : {}),
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
