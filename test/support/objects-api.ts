import { Global, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '@modelsmith/config';
import type { ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { configureApp } from '../../apps/api/src/configure-app';
import { ObjectsModule } from '../../apps/api/src/objects/objects.module';
import { freePort } from './platform';

/**
 * The API's object routes (GET/PUT /v1/objects/...) alone, configured as the API configures itself,
 * in front of `store`. `makeStore(baseUrl)` builds the store for the address the app will listen on.
 */
export async function startObjectsApi<S extends ObjectStore>(
  makeStore: (baseUrl: string) => Promise<S>,
): Promise<{ url: string; store: S; app: INestApplication; close(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const store = await makeStore(url);

  @Global()
  @Module({ providers: [{ provide: OBJECT_STORE, useValue: store }], exports: [OBJECT_STORE] })
  class StoreModule {}

  @Module({ imports: [StoreModule, ObjectsModule] })
  class ObjectsApp {}

  const app = await NestFactory.create<NestExpressApplication>(ObjectsApp, {
    logger: false,
    bodyParser: false,
  });
  configureApp(app, loadConfig({ STORAGE_DIR: '/nonexistent', STORAGE_URL_SECRET: 'x'.repeat(32) }));
  await app.listen(port, '127.0.0.1');
  return { url, store, app, close: () => app.close() };
}
