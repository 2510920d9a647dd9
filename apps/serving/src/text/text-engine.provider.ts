import type { Provider } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { TextServingEngine } from '@modelsmith/serving';
import { objectBytesReader, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';

export const TEXT_ENGINE = Symbol('TEXT_ENGINE');

/** Most texts in one predict request (`{"instances": [...]}`); the body's byte cap applies too. */
export const MAX_TEXT_INSTANCES = 1_000;

/** Text models (libs/serving TextServingEngine) share the model-cache memory setting with image models. */
export const textEngineProvider: Provider = {
  provide: TEXT_ENGINE,
  inject: [APP_CONFIG, OBJECT_STORE],
  useFactory: (config: AppConfig, store: ObjectStore) =>
    new TextServingEngine({
      reader: objectBytesReader(store),
      maxModelBytes: config.SERVING_MODEL_CACHE_MB * 1024 * 1024,
      maxInstances: MAX_TEXT_INSTANCES,
    }),
};
