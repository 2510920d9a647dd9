import { Inject, Injectable, OnApplicationShutdown, type Provider } from '@nestjs/common';
import { mlBackendOptions, type AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { ServingEngine } from '@modelsmith/serving';
import { objectBytesReader, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';

export const ENGINE = Symbol('ENGINE');
export type Engine = ServingEngine;

export const engineProvider: Provider = {
  provide: ENGINE,
  inject: [APP_CONFIG, OBJECT_STORE],
  useFactory: (config: AppConfig, store: ObjectStore) =>
    new ServingEngine({
      reader: objectBytesReader(store),
      maxModelBytes: config.SERVING_MODEL_CACHE_MB * 1024 * 1024,
      maxBatchSize: config.SERVING_MAX_BATCH_SIZE,
      autoBatchSize: config.SERVING_AUTO_BATCH_SIZE,
      maxBatchWaitMs: config.SERVING_MAX_BATCH_WAIT_MS,
      maxQueuedImages: config.SERVING_MAX_QUEUED_IMAGES,
      inference: config.SERVING_INFERENCE,
      threadBackend: config.ML_BACKEND,
      threadNativeBlas: mlBackendOptions(config).nativeBlas,
      maxConcurrentExplanations: config.SERVING_MAX_CONCURRENT_EXPLANATIONS,
    }),
};

@Injectable()
export class EngineLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ENGINE) private readonly engine: Engine) {}

  async onApplicationShutdown(): Promise<void> {
    await this.engine.close();
  }
}
