import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TrainingJobsService } from './training-jobs.service';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('backbones')
export class BackbonesController {
  constructor(private readonly training: TrainingJobsService) {}

  @Get()
  @ApiOperation({
    summary:
      'The model zoo: backbones a training job may use, with input size, preprocessing, source and license',
  })
  list() {
    return this.training.backbones();
  }
}
