import { Injectable } from '@nestjs/common';
import { ModelStore } from '@modelsmith/jobs';
import { isUuid, notFound, ProblemError } from '@modelsmith/http';
import type { ModelRef } from '@modelsmith/serving';

/** A model that can be explained: an image classifier (attributions) or a text classifier (word-level LIME). */
export interface ExplainableModel {
  ref: ModelRef;
  kind: 'image' | 'text';
}

/** Maps (tenant, model id) to the stored model to explain: another tenant's model is a 404, like an unknown one. */
@Injectable()
export class ModelResolver {
  constructor(private readonly models: ModelStore) {}

  async resolve(tenantId: string, modelId: string): Promise<ExplainableModel> {
    if (!isUuid(modelId)) throw notFound('model', modelId.slice(0, 64));
    const model = await this.models.getReady(tenantId, modelId);
    if (!model) throw notFound('model', modelId);
    const kind =
      model.task === 'IMAGE_CLASSIFICATION' ? 'image' : model.task === 'TEXT_CLASSIFICATION' ? 'text' : null;
    if (kind === null || model.manifest === null)
      throw new ProblemError({
        status: 422,
        code: 'UNPROCESSABLE',
        title: 'Model cannot be explained',
        detail: `model ${model.id} is not an exported image or text classification model`,
        extensions: { reason: 'MODEL_NOT_SERVABLE' },
      });
    return {
      ref: { modelId: model.id, version: model.updatedAt.toISOString(), prefix: model.artifactPrefix },
      kind,
    };
  }
}
