import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { PinoLogger } from 'nestjs-pino';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import {
  KeyRateLimiter,
  problemBody,
  rateLimitHeaders,
  requestId,
  type TenantPrincipal,
} from '@modelsmith/http';
import { toProblem } from '@modelsmith/http/nest';
import { PredictAuthService } from '../auth/predict-auth.service';
import { DeploymentResolver } from '../deployments/deployment-resolver.service';
import { ENGINE, type Engine } from '../engine.provider';
import { Admission } from './admission';
import { predictProblem, sheddingProblem } from './predict-problems';
import { predictRouteId } from './predict-route';
import { readPredictImages } from './read-images';
import { readInstances } from './tabular/read-instances';
import { isTabularTask, TabularModels } from './tabular/tabular-models.service';

const DEFAULT_TOP_K = 5;
const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/**
 * `POST /v1/deployments/:id/predict`, answered straight from the HTTP server's request event.
 *
 * Prediction is the one hot path of this app: for a small model a forward pass costs less than
 * express routing, per-request logger children and Nest's handler pipeline together (measured under
 * load: ~a third of the request thread). So predict requests skip them; every other route (health,
 * stats) goes through Nest as usual. What the pipeline gave is kept here: request ids (X-Request-Id),
 * RFC 9457 problems from the same mapping as the app's filter, an access log line per request (when
 * the log level is info or finer; errors always), and the same order of checks.
 */
@Injectable()
export class PredictHandler {
  private readonly logger = new Logger('Predict');
  private readonly admission: Admission;

  constructor(
    private readonly auth: PredictAuthService,
    private readonly limits: KeyRateLimiter,
    private readonly deployments: DeploymentResolver,
    @Inject(ENGINE) private readonly engine: Engine,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tabular: TabularModels,
  ) {
    this.admission = new Admission(config.SERVING_MAX_CONCURRENT_REQUESTS);
  }

  /** Puts this handler in front of the server's other request listeners (the app's router), for predict requests only. */
  attach(server: Server): void {
    const others = server.listeners('request') as RequestListener[];
    if (others.length === 0)
      throw new Error('attach the predict handler after the app has created its HTTP server');
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const deploymentId = predictRouteId(req.method, req.url);
      if (deploymentId !== undefined) void this.handle(req, res, deploymentId);
      else for (const listener of others) listener.call(server, req, res);
    });
  }

  /** Answers one predict request; never throws (every failure becomes a problem response). */
  async handle(req: IncomingMessage, res: ServerResponse, deploymentId: string): Promise<void> {
    const started = Date.now();
    const id = requestId(req, res);
    let principal: TenantPrincipal | undefined;
    const release = this.admission.tryEnter();
    try {
      if (!release) throw sheddingProblem(this.admission.limit);
      principal = await this.auth.authenticate(req);
      const rate = await this.limits.consume(principal);
      if (rate)
        for (const [name, value] of Object.entries(rateLimitHeaders(rate))) res.setHeader(name, value);
      const deployment = await this.deployments.resolve(principal.tenantId, deploymentId);
      if (isTabularTask(deployment.task)) {
        // Tabular models take JSON records: {"instances": [{...}]} (predict/tabular/).
        const instances = await readInstances(req, this.config.SERVING_MAX_REQUEST_BYTES);
        const out = await this.tabular.predict(deployment.ref, instances);
        const body = {
          deploymentId: deployment.id,
          modelId: deployment.ref.modelId,
          modelVersion: deployment.ref.version,
          ...out,
          tookMs: Date.now() - started,
        };
        send(res, 200, JSON_TYPE, JSON.stringify(body));
        return;
      }
      const input = await readPredictImages(req, {
        maxBytes: this.config.SERVING_MAX_REQUEST_BYTES,
        maxImages: this.config.SERVING_MAX_IMAGES_PER_REQUEST,
      });
      const topK = input.topK ?? deployment.topK ?? DEFAULT_TOP_K;
      const result = await this.engine
        .predict(deployment.ref, input.images, {
          topK,
          deadline: started + this.config.SERVING_REQUEST_TIMEOUT_MS,
        })
        .catch((e: unknown) => {
          throw predictProblem(e);
        });
      const body = {
        deploymentId: deployment.id,
        modelId: result.modelId,
        modelVersion: result.version,
        predictions: result.predictions,
        tookMs: Date.now() - started,
      };
      send(res, 200, JSON_TYPE, JSON.stringify(body));
    } catch (e) {
      const problem = toProblem(e);
      if (problem.status >= 500 && problem.status !== 503)
        this.logger.error(e instanceof Error ? e.stack : String(e));
      for (const [k, v] of Object.entries(problem.headers)) res.setHeader(k, v);
      send(res, problem.status, PROBLEM_TYPE, problemBody(problem, req.url, id));
    } finally {
      release?.();
      this.accessLog(req, res, id, started, deploymentId, principal);
    }
  }

  private accessLog(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    started: number,
    deploymentId: string,
    principal: TenantPrincipal | undefined,
  ): void {
    const log = PinoLogger.root;
    // Shedding (503) is the service working as designed under load: a warning, not an error.
    const level =
      res.statusCode >= 500 && res.statusCode !== 503 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
    if (!log.isLevelEnabled(level)) return;
    // The app's serializers and redaction (as for every other route's request log): id, method, url, headers without secrets.
    (req as IncomingMessage & { id?: string }).id = id;
    log[level](
      {
        req,
        res,
        responseTime: Date.now() - started,
        deploymentId,
        ...(principal && { tenantId: principal.tenantId }),
      },
      'request completed',
    );
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
