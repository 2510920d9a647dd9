import { Inject, Injectable } from '@nestjs/common';
import type { Task } from '@modelsmith/db';
import { ProblemError } from '@modelsmith/http';
import {
  TABULAR_MODEL_FILE,
  TABULAR_MODEL_FORMAT,
  predictRecords,
  validateInstances,
  type TabularModelArtifact,
  type TabularPrediction,
  type TabularRow,
} from '@modelsmith/ml/tabular';
import type { ModelRef } from '@modelsmith/serving';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { LRUCache } from 'lru-cache';

export const isTabularTask = (task: Task): boolean =>
  task === 'TABULAR_CLASSIFICATION' || task === 'TABULAR_REGRESSION';

/** Tabular model versions kept loaded; the least recently used beyond this are loaded again when asked. */
const MAX_CACHED_MODELS = 64;

/**
 * Tabular models for serving: the JSON artifact (encoders, feature order, trees or weights) loaded
 * once per model version and kept in an LRU cache; predictions are plain TypeScript on the request
 * thread (no TensorFlow.js, no batching: a record costs microseconds).
 */
@Injectable()
export class TabularModels {
  private readonly cache = new LRUCache<string, Promise<TabularModelArtifact>>({ max: MAX_CACHED_MODELS });

  constructor(@Inject(OBJECT_STORE) private readonly store: ObjectStore) {}

  /** Loads (and caches) the model, so a swap to it fails no request. */
  async warm(ref: ModelRef): Promise<void> {
    await this.get(ref);
  }

  get(ref: ModelRef): Promise<TabularModelArtifact> {
    const key = `${ref.modelId}@${ref.version}`;
    let entry = this.cache.get(key);
    if (!entry) {
      entry = this.load(ref);
      this.cache.set(key, entry);
      // A failed load is not kept: the next request tries again.
      entry.catch(() => this.cache.delete(key));
    }
    return entry;
  }

  private async load(ref: ModelRef): Promise<TabularModelArtifact> {
    const bytes = await this.store.getBytes(keys.within(ref.prefix, TABULAR_MODEL_FILE));
    const a = JSON.parse(bytes.toString('utf8')) as TabularModelArtifact;
    if (a.format !== TABULAR_MODEL_FORMAT || a.version !== 1)
      throw new Error(
        `model ${ref.modelId}: ${TABULAR_MODEL_FILE} is not a version 1 ${TABULAR_MODEL_FORMAT} artifact`,
      );
    return a;
  }

  /** Validates the records against the model's input schema (422 naming the field) and predicts them. */
  async predict(
    ref: ModelRef,
    instances: unknown[],
  ): Promise<{ task: TabularModelArtifact['task']; target: string; predictions: TabularPrediction[] }> {
    const a = await this.get(ref);
    const problem = validateInstances(a, instances);
    if (problem) {
      const field = `instances[${problem.index}]${problem.field ? `.${problem.field}` : ''}`;
      throw new ProblemError({
        status: 422,
        code: 'VALIDATION_FAILED',
        title: 'Invalid instance',
        detail: `${field.slice(0, 300)} ${problem.message}`,
        extensions: {
          field: field.slice(0, 300),
          errors: [{ field: field.slice(0, 300), message: problem.message }],
          inputSchema: a.input,
        },
      });
    }
    return { task: a.task, target: a.target, predictions: predictRecords(a, instances as TabularRow[]) };
  }
}
