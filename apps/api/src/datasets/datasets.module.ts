import { Module } from '@nestjs/common';
import { DatasetsController } from './datasets.controller';
import { DatasetsService } from './datasets.service';
import { UploadsController } from './uploads.controller';

@Module({ controllers: [DatasetsController, UploadsController], providers: [DatasetsService], exports: [DatasetsService] })
export class DatasetsModule {}
