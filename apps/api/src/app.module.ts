import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from '@modelsmith/config';
import { ConfigModule } from '@modelsmith/config/nest';
import { DbModule } from '@modelsmith/db/nest';
import { JobStoreModule, QueueModule } from '@modelsmith/jobs/nest';
import { StorageModule } from '@modelsmith/storage/nest';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { AuthModule } from './auth/auth.module';
import { loggerParams } from '@modelsmith/http/nest';
import { DatasetsModule } from './datasets/datasets.module';
import { DeploymentsModule } from './deployments/deployments.module';
import { ModelsModule } from './models/models.module';
import { ServingNoticesModule } from './notices/serving-notices';
import { HealthController } from './health/health.controller';
import { JobsModule } from './jobs/jobs.module';
import { ObjectsModule } from './objects/objects.module';
import { TenantsController } from './tenants/tenants.controller';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerParams(config, 'modelsmith-api')),
        DbModule.forRoot(config),
        StorageModule.forRoot(config),
        QueueModule.forRoot(config, ['cpu', 'gpu'], { failFast: true }),
        JobStoreModule,
        AuthModule,
        ServingNoticesModule,
        JobsModule,
        DatasetsModule,
        ModelsModule,
        DeploymentsModule,
        ObjectsModule,
        WebhooksModule,
      ],
      controllers: [HealthController, TenantsController, ApiKeysController],
    };
  }
}
