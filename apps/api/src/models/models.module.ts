import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { PredictRateLimitModule } from '../rate-limit/predict-rate-limit.module';
import { BatchPredictionsService } from './batch-predictions.service';
import { CleanModelService } from './clean-model.service';
import { ModelsController } from './models.controller';
import { ModelsService } from './models.service';

@Module({
  imports: [JobsModule, PredictRateLimitModule],
  controllers: [ModelsController],
  providers: [ModelsService, BatchPredictionsService, CleanModelService],
})
export class ModelsModule {}
