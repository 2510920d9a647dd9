import { DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import { createObjectStore } from '../create-object-store';

export const OBJECT_STORE = Symbol('OBJECT_STORE');

/** The object store of the configured driver (S3 or filesystem), made ready at boot (bucket or directories created). */
@Global()
@Module({})
export class StorageModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: StorageModule,
      providers: [
        {
          provide: OBJECT_STORE,
          useFactory: async () => {
            const store = createObjectStore(config);
            await store.ensureReady();
            return store;
          },
        },
      ],
      exports: [OBJECT_STORE],
    };
  }
}
