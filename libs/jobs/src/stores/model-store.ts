import { withTenant, type Job, type Model, type Prisma, type PrismaClient, type Task } from '@modelsmith/db';
import {
  deploymentConfigSchema,
  deploymentTuningSchema,
  modelManifestSchema,
  modelMetricsSchema,
  modelRecipeSchema,
  modelReportSchema,
  type ModelManifest,
  type ModelMetrics,
  type ModelRecipe,
  type ModelReport,
} from './model-columns';
import { readColumn } from './stored-json';

/** A model row with its JSON columns parsed. */
export type TypedModel = Omit<Model, 'manifest' | 'metrics' | 'report' | 'recipe'> & {
  manifest: ModelManifest | null;
  metrics: ModelMetrics | null;
  report: ModelReport | null;
  recipe: ModelRecipe | null;
};

export type ModelWithLineage = TypedModel & {
  job: Pick<Job, 'id' | 'mode' | 'budget' | 'options' | 'metricHistory' | 'createdAt' | 'finishedAt'> | null;
  datasetVersion: { id: string; version: number; datasetId: string } | null;
};

/** What a training job's phase produced: the model row is keyed by the job id and improves phase by phase. */
export interface TrainedModel {
  /** = the job id (one model per job). */
  id: string;
  jobId: string;
  datasetVersionId: string;
  name: string;
  backbone: string | null;
  /** Default IMAGE_CLASSIFICATION. */
  task?: Task;
  artifactPrefix: string;
  manifest: ModelManifest;
  report: ModelReport;
  recipe: ModelRecipe;
  sizeBytes: number;
}

/** What serving needs to answer for a deployment: its state and the model's artifacts. */
export interface DeploymentTarget {
  id: string;
  active: boolean;
  model: { id: string; artifactPrefix: string; updatedAt: Date; task: Task };
  topK: number | null;
  /** The tuned batching (POST /v1/deployments/:id/tune), when it was tuned for this model version. */
  batching: { maxBatchSize: number; maxBatchWaitMs: number } | null;
}

function typed<M extends Model>(m: M): Omit<M, 'manifest' | 'metrics' | 'report' | 'recipe'> & TypedModel {
  const where = (column: string) => ({ table: 'models', column, id: m.id });
  return {
    ...m,
    manifest: readColumn(modelManifestSchema, m.manifest, where('manifest')),
    metrics: readColumn(modelMetricsSchema, m.metrics, where('metrics')),
    report: readColumn(modelReportSchema, m.report, where('report')),
    recipe: readColumn(modelRecipeSchema, m.recipe, where('recipe')),
  };
}

const LINEAGE = {
  job: {
    select: {
      id: true,
      mode: true,
      budget: true,
      options: true,
      metricHistory: true,
      createdAt: true,
      finishedAt: true,
    },
  },
  datasetVersion: { select: { id: true, version: true, datasetId: true } },
} as const;

/**
 * Model rows: typed JSON columns (zod-parsed on read, typed on write), the training job's upsert, and
 * the deployment lookup serving uses. Every method runs inside `withTenant` (row-level security):
 * another tenant's model or deployment behaves as absent.
 */
export class ModelStore {
  constructor(private readonly db: PrismaClient) {}

  /** READY models, newest first: up to `take` rows after `cursor` (a model id). */
  async listReady(tenantId: string, take: number, cursor?: string): Promise<TypedModel[]> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx.model.findMany({
        where: { status: 'READY' },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take,
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      }),
    );
    return rows.map(typed);
  }

  /** A READY model, or null. */
  async getReady(tenantId: string, id: string): Promise<TypedModel | null> {
    const m = await withTenant(this.db, tenantId, (tx) =>
      tx.model.findFirst({ where: { id, status: 'READY' } }),
    );
    return m ? typed(m) : null;
  }

  /** A READY model with the job and dataset version it came from, or null. */
  async getReadyWithLineage(tenantId: string, id: string): Promise<ModelWithLineage | null> {
    const m = await withTenant(this.db, tenantId, (tx) =>
      tx.model.findFirst({ where: { id, status: 'READY' }, include: LINEAGE }),
    );
    return m ? typed(m) : null;
  }

  /** Creates or improves the model of a training job (id = job id): READY, image classification unless `task` says otherwise. */
  async saveTrained(tenantId: string, t: TrainedModel): Promise<TypedModel> {
    const data = {
      name: t.name,
      task: t.task ?? ('IMAGE_CLASSIFICATION' as const),
      backbone: t.backbone,
      status: 'READY' as const,
      artifactPrefix: t.artifactPrefix,
      manifest: t.manifest as Prisma.InputJsonObject,
      metrics: t.manifest.metrics as Prisma.InputJsonObject,
      report: t.report as Prisma.InputJsonObject,
      recipe: t.recipe as Prisma.InputJsonObject,
      sizeBytes: BigInt(t.sizeBytes),
      datasetVersionId: t.datasetVersionId,
    };
    const m = await withTenant(this.db, tenantId, (tx) =>
      tx.model.upsert({
        where: { id: t.id },
        create: { id: t.id, tenantId, jobId: t.jobId, ...data },
        update: data,
      }),
    );
    return typed(m);
  }

  /**
   * Marks a model DELETED unless an ACTIVE deployment serves it (those are returned, nothing changes).
   * Takes the model row lock, which a deploy of the same model shares: the two serialize.
   */
  async markDeleted(
    tenantId: string,
    id: string,
  ): Promise<{ deleted: true } | { deleted: false; servedBy: { id: string; name: string }[] }> {
    return withTenant(this.db, tenantId, async (tx) => {
      await tx.$queryRaw`SELECT id FROM models WHERE id = ${id} FOR UPDATE`; // waits for a deploy of it in flight
      const servedBy = await tx.deployment.findMany({
        where: { modelId: id, status: 'ACTIVE' },
        select: { id: true, name: true },
      });
      if (servedBy.length > 0) return { deleted: false, servedBy } as const;
      await tx.model.update({ where: { id }, data: { status: 'DELETED' } });
      return { deleted: true } as const;
    });
  }

  /** The deployment's state and the model answering for it, or null when the tenant has no such deployment. */
  async deploymentTarget(tenantId: string, deploymentId: string): Promise<DeploymentTarget | null> {
    const row = await withTenant(this.db, tenantId, (tx) =>
      tx.deployment.findFirst({
        where: { id: deploymentId },
        select: {
          id: true,
          status: true,
          config: true,
          tuning: true,
          model: { select: { id: true, status: true, artifactPrefix: true, updatedAt: true, task: true } },
        },
      }),
    );
    if (!row) return null;
    const config = readColumn(deploymentConfigSchema, row.config, {
      table: 'deployments',
      column: 'config',
      id: row.id,
    });
    const tuning = readColumn(deploymentTuningSchema, row.tuning, {
      table: 'deployments',
      column: 'tuning',
      id: row.id,
    });
    return {
      id: row.id,
      active: row.status === 'ACTIVE' && row.model.status === 'READY',
      model: {
        id: row.model.id,
        artifactPrefix: row.model.artifactPrefix,
        updatedAt: row.model.updatedAt,
        task: row.model.task,
      },
      topK: config?.topK ?? null,
      batching:
        tuning && tuning.modelId === row.model.id && tuning.modelVersion === row.model.updatedAt.toISOString()
          ? { maxBatchSize: tuning.maxBatchSize, maxBatchWaitMs: tuning.maxBatchWaitMs }
          : null,
    };
  }
}
