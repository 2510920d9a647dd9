import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { DatasetsController } from './datasets.controller';
import { DatasetsService } from './datasets.service';
import { UploadsController } from './uploads.controller';

@Module({
  imports: [JobsModule],
  controllers: [DatasetsController, UploadsController],
  providers: [DatasetsService],
  exports: [DatasetsService],
})
export class DatasetsModule {}
