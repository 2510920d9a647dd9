import { Injectable } from '@nestjs/common';
import { ModelStore } from '@modelsmith/jobs';
import { isUuid, notFound, ProblemError } from '@modelsmith/http';
import type { ModelRef } from '@modelsmith/serving';

/** Maps (tenant, model id) to the stored model to explain: another tenant's model is a 404, like an unknown one. */
@Injectable()
export class ModelResolver {
  constructor(private readonly models: ModelStore) {}

  async resolve(tenantId: string, modelId: string): Promise<ModelRef> {
    if (!isUuid(modelId)) throw notFound('model', modelId.slice(0, 64));
    const model = await this.models.getReady(tenantId, modelId);
    if (!model) throw notFound('model', modelId);
    if (model.task !== 'IMAGE_CLASSIFICATION' || model.manifest === null)
      throw new ProblemError({
        status: 422,
        code: 'UNPROCESSABLE',
        title: 'Model cannot be explained',
        detail: `model ${model.id} is not an exported image classification model`,
        extensions: { reason: 'MODEL_NOT_SERVABLE' },
      });
    return { modelId: model.id, version: model.updatedAt.toISOString(), prefix: model.artifactPrefix };
  }
}
