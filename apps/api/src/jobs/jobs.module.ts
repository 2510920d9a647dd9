import { Module } from '@nestjs/common';
import { JobEventStreamService } from './job-event-stream.service';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { ReconcilerService } from './reconciler.service';
import { ScratchSweeperService } from './scratch-sweeper.service';
import { BackbonesController } from '../training/backbones.controller';
import { TrainingJobsService } from '../training/training-jobs.service';
import { TrainingEstimateService } from '../training/training-estimate.service';

@Module({
  controllers: [JobsController, BackbonesController],
  providers: [
    JobsService,
    JobEventStreamService,
    ReconcilerService,
    ScratchSweeperService,
    TrainingJobsService,
    TrainingEstimateService,
  ],
  exports: [JobsService, TrainingJobsService],
})
export class JobsModule {}
