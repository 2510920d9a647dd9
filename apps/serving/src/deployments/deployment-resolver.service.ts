import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { deploymentEventsChannel } from '@modelsmith/contracts';
import type { Task } from '@modelsmith/db';
import { ModelStore } from '@modelsmith/jobs';
import { isUuid, notFound, ProblemError } from '@modelsmith/http';
import { LRUCache } from 'lru-cache';
import type { ModelRef } from '@modelsmith/serving';
import { onNotices, REDIS_SUBSCRIBER } from '../redis.provider';
import { ENGINE, type Engine } from '../engine.provider';
import { isTabularTask, TabularModels } from '../predict/tabular/tabular-models.service';
import { TEXT_ENGINE } from '../text/text-engine.provider';
import type { TextServingEngine } from '@modelsmith/serving';

/** How long a deployment lookup is reused before it is read again (changes also arrive over Redis at once). */
export const DEPLOYMENT_CACHE_TTL_MS = 2_000;
/** Deployments (or unknown ids) whose lookup is kept; the least recently used beyond this are read again when asked. */
export const MAX_CACHED_DEPLOYMENTS = 10_000;

export interface ResolvedDeployment {
  id: string;
  tenantId: string;
  active: boolean;
  ref: ModelRef;
  /** The model's task: image models answer through the engine, tabular ones through TabularModels. */
  task: Task;
  /** The deployment's default top-k (config.topK), if set. */
  topK: number | null;
}

interface Entry {
  /** null: no such deployment for this tenant. */
  value: ResolvedDeployment | null;
  fetchedAt: number;
  refreshing?: Promise<void>;
}

function sameModel(a: ModelRef, b: ModelRef): boolean {
  return (
    a.modelId === b.modelId &&
    a.version === b.version &&
    a.batching?.maxBatchSize === b.batching?.maxBatchSize &&
    a.batching?.maxBatchWaitMs === b.batching?.maxBatchWaitMs
  );
}

/**
 * Maps (tenant, deployment id) to the model that answers, with a short-lived cache. When a
 * deployment's model changes, the new model is loaded (warmed) before requests are sent to it; until
 * then the previous model keeps answering, so a swap fails no request.
 */
@Injectable()
export class DeploymentResolver implements OnModuleInit {
  private readonly logger = new Logger('Deployments');
  /** Bounded: a client cycling through made-up deployment ids must not grow it without end. */
  private readonly entries = new LRUCache<string, Entry>({ max: MAX_CACHED_DEPLOYMENTS });
  private readonly firstLoads = new Map<string, Promise<Entry>>();

  constructor(
    private readonly models: ModelStore,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    @Inject(ENGINE) private readonly engine: Engine,
    @Inject(TEXT_ENGINE) private readonly text: TextServingEngine,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tabular: TabularModels,
  ) {}

  async onModuleInit(): Promise<void> {
    // Without Redis, lookups still expire after DEPLOYMENT_CACHE_TTL_MS.
    await onNotices(
      this.subscriber,
      deploymentEventsChannel(this.config.QUEUE_PREFIX),
      this.logger,
      ({ tenantId, deploymentId }) => {
        if (typeof tenantId === 'string' && typeof deploymentId === 'string')
          this.invalidate(tenantId, deploymentId);
      },
    );
  }

  /** The deployment's answering model; 404 when it does not exist for the tenant, 409 when undeployed. */
  async resolve(tenantId: string, deploymentId: string): Promise<ResolvedDeployment> {
    if (!isUuid(deploymentId)) throw notFound('deployment', deploymentId.slice(0, 64));
    const key = `${tenantId}/${deploymentId}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = await this.firstLoad(key, tenantId, deploymentId);
    } else if (Date.now() - entry.fetchedAt > DEPLOYMENT_CACHE_TTL_MS && !entry.refreshing) {
      const current = entry;
      current.refreshing = this.refresh(current, tenantId, deploymentId).finally(
        () => (current.refreshing = undefined),
      );
    }
    const value = entry.value;
    if (!value) throw notFound('deployment', deploymentId);
    if (!value.active) {
      throw new ProblemError({
        status: 409,
        code: 'CONFLICT',
        title: 'Deployment is not active',
        detail: `deployment ${deploymentId} is undeployed; activate it (POST /v1/deployments/${deploymentId}/activate on the API) to predict`,
      });
    }
    return value;
  }

  /** Forgets what is known of a deployment so the next request reads it again (and warms a new model). */
  invalidate(tenantId: string, deploymentId: string): void {
    const entry = this.entries.get(`${tenantId}/${deploymentId}`);
    if (!entry) return;
    entry.fetchedAt = 0;
    if (!entry.refreshing) {
      entry.refreshing = this.refresh(entry, tenantId, deploymentId).finally(
        () => (entry.refreshing = undefined),
      );
    }
  }

  private firstLoad(key: string, tenantId: string, deploymentId: string): Promise<Entry> {
    let pending = this.firstLoads.get(key);
    if (!pending) {
      pending = this.read(tenantId, deploymentId)
        .then((value) => {
          const entry: Entry = { value, fetchedAt: Date.now() };
          this.entries.set(key, entry);
          return entry;
        })
        .finally(() => this.firstLoads.delete(key));
      this.firstLoads.set(key, pending);
    }
    return pending;
  }

  private async refresh(entry: Entry, tenantId: string, deploymentId: string): Promise<void> {
    try {
      const next = await this.read(tenantId, deploymentId);
      const previous = entry.value;
      if (next?.active && previous?.active && !sameModel(previous.ref, next.ref)) {
        // A swap: load the new model while the old one keeps answering.
        if (isTabularTask(next.task)) await this.tabular.warm(next.ref);
        else if (await this.text.isTextModel(next.ref)) await this.text.warm(next.ref);
        else await this.engine.warm(next.ref);
        this.logger.log(
          `deployment ${deploymentId}: now answering with model ${next.ref.modelId} (was ${previous.ref.modelId})`,
        );
      }
      entry.value = next;
      entry.fetchedAt = Date.now();
    } catch (e) {
      // Keep serving what we have; the next request past the TTL tries again.
      entry.fetchedAt = Date.now();
      this.logger.warn(
        `could not refresh deployment ${deploymentId}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private async read(tenantId: string, deploymentId: string): Promise<ResolvedDeployment | null> {
    const target = await this.models.deploymentTarget(tenantId, deploymentId);
    if (!target) return null;
    return {
      id: target.id,
      tenantId,
      active: target.active,
      ref: {
        modelId: target.model.id,
        version: target.model.updatedAt.toISOString(),
        prefix: target.model.artifactPrefix,
        ...(target.batching ? { batching: target.batching } : {}),
      },
      task: target.model.task,
      topK: target.topK,
    };
  }
}
