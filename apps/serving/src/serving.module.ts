import { DynamicModule, Module, type Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG, ConfigModule } from '@modelsmith/config/nest';
import type { PrismaClient } from '@modelsmith/db';
import { APP_PRISMA, DbModule } from '@modelsmith/db/nest';
import { ModelStore } from '@modelsmith/jobs';
import { KeyRateLimiter } from '@modelsmith/http';
import { ApiKeyAuthService, loggerParams } from '@modelsmith/http/nest';
import { StorageModule } from '@modelsmith/storage/nest';
import { PredictAuthService } from './auth/predict-auth.service';
import { DeploymentResolver } from './deployments/deployment-resolver.service';
import { EngineLifecycle, engineProvider } from './engine.provider';
import { ModelResolver } from './explain/model-resolver.service';
import { ServingHealthController } from './health/health.controller';
import { TabularModels } from './predict/tabular/tabular-models.service';
import { PredictHandler } from './predict/predict.handler';
import { REDIS, RedisLifecycle, redisProviders } from './redis.provider';
import { textEngineProvider } from './text/text-engine.provider';

export const SERVING_LOGGER_NAME = 'modelsmith-serving';

const modelStoreProvider: Provider = {
  provide: ModelStore,
  inject: [APP_PRISMA],
  useFactory: (db: PrismaClient) => new ModelStore(db),
};

/** Per-key prediction rate, counted in Redis (shared with the API's batch predictions). */
const rateLimiterProvider: Provider = {
  provide: KeyRateLimiter,
  inject: [REDIS, APP_CONFIG],
  useFactory: (redis: Redis, config: AppConfig) =>
    new KeyRateLimiter(redis, {
      prefix: config.QUEUE_PREFIX,
      defaultLimitPerMinute: config.PREDICT_DEFAULT_RATE_LIMIT_PER_MINUTE,
    }),
};

@Module({})
export class ServingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ServingModule,
      imports: [
        ConfigModule.forRoot(config),
        // No nestjs-pino middleware on any route (main.ts adds pino-http's own for access logs): it binds each request's
        // logger in an AsyncLocalStorage, and the first request through it (a health probe) switched on
        // Node's promise hooks for the whole process, which every prediction then paid for.
        LoggerModule.forRoot({ ...loggerParams(config, SERVING_LOGGER_NAME), forRoutes: [] }),
        DbModule.forRoot(config),
        StorageModule.forRoot(config),
      ],
      controllers: [ServingHealthController],
      providers: [
        ...redisProviders,
        RedisLifecycle,
        engineProvider,
        EngineLifecycle,
        textEngineProvider,
        ApiKeyAuthService,
        PredictAuthService,
        rateLimiterProvider,
        modelStoreProvider,
        DeploymentResolver,
        TabularModels,
        ModelResolver,
        PredictHandler,
      ],
    };
  }
}
