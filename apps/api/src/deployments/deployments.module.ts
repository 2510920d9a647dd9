import { Module } from '@nestjs/common';
import { DeploymentEvents } from './deployment-events';
import { DeploymentsController } from './deployments.controller';
import { DeploymentsService } from './deployments.service';

@Module({ controllers: [DeploymentsController], providers: [DeploymentsService, DeploymentEvents] })
export class DeploymentsModule {}
