import { Controller, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@modelsmith/config';
import type { AuthenticatedRequest } from '@modelsmith/http';
import { PredictAuthService } from '../auth/predict-auth.service';
import { RateLimitService } from '../auth/rate-limit.service';
import { DeploymentResolver } from '../deployments/deployment-resolver.service';
import { ENGINE, type Engine } from '../engine.provider';
import { Admission } from './admission';
import { predictProblem, sheddingProblem } from './predict-problems';
import { readPredictImages } from './read-images';

const DEFAULT_TOP_K = 5;

@Controller('deployments')
export class PredictController {
  private readonly admission: Admission;

  constructor(
    private readonly auth: PredictAuthService,
    private readonly limits: RateLimitService,
    private readonly deployments: DeploymentResolver,
    @Inject(ENGINE) private readonly engine: Engine,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.admission = new Admission(config.SERVING_MAX_CONCURRENT_REQUESTS);
  }

  /**
   * Top-k labels for one or more images. Order of checks: shed when overloaded (503), authenticate
   * (401/403), rate limit (429), resolve the deployment (404/409), read the size-capped body
   * (400/413/415), predict with a deadline (422 bad image or refused model, 503 queue full or timeout).
   */
  @Post(':id/predict')
  @HttpCode(200)
  async predict(@Param('id') id: string, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const started = Date.now();
    const release = this.admission.tryEnter();
    if (!release) throw sheddingProblem(this.admission.limit);
    try {
      const principal = await this.auth.authenticate(req);
      (req as Request & AuthenticatedRequest).principal = principal;
      const rate = await this.limits.consume(principal);
      if (rate) {
        res.setHeader('X-RateLimit-Limit', String(rate.limit));
        res.setHeader('X-RateLimit-Remaining', String(rate.remaining));
      }
      const deployment = await this.deployments.resolve(principal.tenantId, id);
      const input = await readPredictImages(req, { maxBytes: this.config.SERVING_MAX_REQUEST_BYTES, maxImages: this.config.SERVING_MAX_IMAGES_PER_REQUEST });
      const topK = input.topK ?? deployment.topK ?? DEFAULT_TOP_K;
      const result = await this.engine
        .predict(deployment.ref, input.images, { topK, deadline: started + this.config.SERVING_REQUEST_TIMEOUT_MS })
        .catch((e: unknown) => {
          throw predictProblem(e);
        });
      return {
        deploymentId: deployment.id,
        modelId: result.modelId,
        modelVersion: result.version,
        predictions: result.predictions,
        tookMs: Date.now() - started,
      };
    } finally {
      release();
    }
  }
}
