import { Module } from '@nestjs/common';
import { DeploymentsController } from './deployments.controller';
import { DeploymentsService } from './deployments.service';
import { ServingCalibrator } from './serving-calibrator';

@Module({ controllers: [DeploymentsController], providers: [DeploymentsService, ServingCalibrator] })
export class DeploymentsModule {}
