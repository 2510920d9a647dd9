import { DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import { ObjectStore } from '../object-store';

export const OBJECT_STORE = Symbol('OBJECT_STORE');

/** The object store, its bucket created at boot if absent. */
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
            const store = new ObjectStore({
              endpoint: config.S3_ENDPOINT,
              region: config.S3_REGION,
              accessKey: config.S3_ACCESS_KEY,
              secretKey: config.S3_SECRET_KEY,
              bucket: config.S3_BUCKET,
              ...(config.S3_PUBLIC_ENDPOINT ? { publicEndpoint: config.S3_PUBLIC_ENDPOINT } : {}),
            });
            await store.ensureBucket();
            return store;
          },
        },
      ],
      exports: [OBJECT_STORE],
    };
  }
}
