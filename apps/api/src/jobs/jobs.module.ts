import { Module } from '@nestjs/common';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { ReconcilerService } from './reconciler.service';

@Module({ controllers: [JobsController], providers: [JobsService, ReconcilerService] })
export class JobsModule {}
