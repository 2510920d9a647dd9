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

@Module({})
export class ServingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ServingModule,
      imports: [ConfigModule.forRoot(config), LoggerModule.forRoot(loggerParams(config, 'modelsmith-serving')), DbModule.forRoot(config), StorageModule.forRoot(config)],
      controllers: [ServingHealthController],
      providers: [...redisProviders, RedisLifecycle, engineProvider, EngineLifecycle, ApiKeyAuthService, PredictAuthService, RateLimitService, DeploymentResolver, PredictHandler],
    };
  }
}
