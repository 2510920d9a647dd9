import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ConfigModule, type AppConfig } from '@modelsmith/config';
import { DbModule } from '@modelsmith/db';
import { ApiKeyAuthService, loggerParams } from '@modelsmith/http';
import { StorageModule } from '@modelsmith/storage';
import { PredictAuthService } from './auth/predict-auth.service';
import { RateLimitService } from './auth/rate-limit.service';
import { DeploymentResolver } from './deployments/deployment-resolver.service';
import { EngineLifecycle, engineProvider } from './engine.provider';
import { ServingHealthController } from './health/health.controller';
import { PredictHandler } from './predict/predict.handler';
import { RedisLifecycle, redisProviders } from './redis.provider';

export const SERVING_LOGGER_NAME = 'modelsmith-serving';

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
      providers: [...redisProviders, RedisLifecycle, engineProvider, EngineLifecycle, ApiKeyAuthService, PredictAuthService, RateLimitService, DeploymentResolver, PredictHandler],
    };
  }
}
