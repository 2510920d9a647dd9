import { Module } from '@nestjs/common';
import { ObjectsController } from './objects.controller';

/** The filesystem object store's presigned URLs, served by the API. */
@Module({ controllers: [ObjectsController] })
export class ObjectsModule {}
