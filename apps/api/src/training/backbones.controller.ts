import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BackboneDto } from './dto/backbone.dto';
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
  @ApiOkResponse({ type: BackboneDto, isArray: true })
  list(): BackboneDto[] {
    return this.training.backbones();
  }
}
