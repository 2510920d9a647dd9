import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { PinoLogger } from 'nestjs-pino';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import {
  KeyRateLimiter,
  ProblemError,
  problemBody,
  rateLimitHeaders,
  requestId,
  type TenantPrincipal,
} from '@modelsmith/http';
import { toProblem } from '@modelsmith/http/nest';
import { PredictAuthService } from '../auth/predict-auth.service';
import { DeploymentResolver } from '../deployments/deployment-resolver.service';
import type { ModelRef } from '@modelsmith/serving';
import { ENGINE, type Engine } from '../engine.provider';
import { MAX_TEXT_INSTANCES, TEXT_ENGINE } from '../text/text-engine.provider';
import { ModelInputMismatchError, type TextServingEngine } from '@modelsmith/serving';
import { Admission } from './admission';
import { predictProblem, sheddingProblem } from './predict-problems';
import {
  MAX_EXPLAINED_IMAGES,
  MAX_EXPLAINED_TEXT_CHARS,
  parseExplainOptions,
  parseTextExplainOptions,
  type ExplainOptions,
  type TextExplainOptions,
} from '../explain/explain-options';
import { explanationBody } from '../explain/explanation-body';
import { ModelResolver } from '../explain/model-resolver.service';
import { applyCors, corsOrigins } from './cors';
import { explainRouteId, predictRouteId } from './predict-route';
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
    private readonly models: ModelResolver,
    @Inject(ENGINE) private readonly engine: Engine,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tabular: TabularModels,
    @Inject(TEXT_ENGINE) private readonly text: TextServingEngine,
  ) {
    this.admission = new Admission(config.SERVING_MAX_CONCURRENT_REQUESTS);
  }

  /** Puts this handler in front of the server's other request listeners (the app's router), for predict requests only. */
  attach(server: Server): void {
    const others = server.listeners('request') as RequestListener[];
    if (others.length === 0)
      throw new Error('attach the predict handler after the app has created its HTTP server');
    server.removeAllListeners('request');
    const cors = corsOrigins(this.config);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // Browsers (the web console, on the API's origin) call predict and explain across origins.
      if (predictRouteId('POST', req.url) !== undefined || explainRouteId('POST', req.url) !== undefined)
        if (applyCors(cors, req, res)) return;
      const deploymentId = predictRouteId(req.method, req.url);
      const modelId = deploymentId === undefined ? explainRouteId(req.method, req.url) : undefined;
      if (deploymentId !== undefined) void this.handle(req, res, deploymentId);
      else if (modelId !== undefined) void this.handle(req, res, modelId, 'explain');
      else for (const listener of others) listener.call(server, req, res);
    });
  }

  /**
   * Answers one predict request (`id`: a deployment) or explain request (`id`: a model); never throws
   * (every failure becomes a problem response). Both pass admission, auth, the key's rate and the
   * same body reading; an explanation counts as one request against the rate.
   */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    route: 'predict' | 'explain' = 'predict',
  ): Promise<void> {
    const started = Date.now();
    const reqId = requestId(req, res);
    let principal: TenantPrincipal | undefined;
    const release = this.admission.tryEnter();
    try {
      if (!release) throw sheddingProblem(this.admission.limit);
      principal = await this.auth.authenticate(req);
      const rate = await this.limits.consume(principal);
      if (rate)
        for (const [name, value] of Object.entries(rateLimitHeaders(rate))) res.setHeader(name, value);
      const body =
        route === 'predict'
          ? await this.predict(req, principal, id, started)
          : await this.explain(req, principal, id, started);
      send(res, 200, JSON_TYPE, JSON.stringify({ ...body, tookMs: Date.now() - started }));
    } catch (e) {
      const problem = toProblem(e);
      if (problem.status >= 500 && problem.status !== 503)
        this.logger.error(e instanceof Error ? e.stack : String(e));
      for (const [k, v] of Object.entries(problem.headers)) res.setHeader(k, v);
      send(res, problem.status, PROBLEM_TYPE, problemBody(problem, req.url, reqId));
    } finally {
      release?.();
      this.accessLog(
        req,
        res,
        reqId,
        started,
        route === 'predict' ? { deploymentId: id } : { modelId: id },
        principal,
      );
    }
  }

  private async predict(
    req: IncomingMessage,
    principal: TenantPrincipal,
    deploymentId: string,
    started: number,
  ) {
    const deployment = await this.deployments.resolve(principal.tenantId, deploymentId);
    if (isTabularTask(deployment.task)) {
      // Tabular models take JSON records: {"instances": [{...}]} (predict/tabular/).
      const instances = await readInstances(req, this.config.SERVING_MAX_REQUEST_BYTES);
      const out = await this.tabular.predict(deployment.ref, instances);
      return {
        deploymentId: deployment.id,
        modelId: deployment.ref.modelId,
        modelVersion: deployment.ref.version,
        ...out,
      };
    }
    const input = await readPredictImages(req, {
      maxBytes: this.config.SERVING_MAX_REQUEST_BYTES,
      maxImages: this.config.SERVING_MAX_IMAGES_PER_REQUEST,
      maxInstances: MAX_TEXT_INSTANCES,
    });
    // Texts (`instances`) go to the text engine, images to the image engine; each refuses the other's models.
    if (input.instances || (await this.text.isTextModel(deployment.ref))) {
      // Validated before any work, like the images' explain option.
      const explain = input.explain === undefined ? undefined : parseTextExplainOptions(input.explain);
      if (explain && (input.instances?.length ?? 0) > MAX_EXPLAINED_IMAGES)
        throw new ProblemError({
          status: 400,
          code: 'VALIDATION_FAILED',
          title: 'Too many texts to explain',
          detail: `explain: at most ${MAX_EXPLAINED_IMAGES} texts per predict request may be explained (got ${input.instances?.length})`,
          extensions: { errors: [{ field: 'explain', messages: [`at most ${MAX_EXPLAINED_IMAGES} texts`] }] },
        });
      const topK = input.topK ?? deployment.topK ?? DEFAULT_TOP_K;
      const instances = input.instances;
      const result = await (
        instances
          ? this.text.predict(deployment.ref, instances, { topK })
          : Promise.reject(
              new ModelInputMismatchError(
                'text-classification',
                `this deployment's model classifies text; send JSON {"instances": ["..."]}, not images`,
              ),
            )
      ).catch((e: unknown) => {
        throw predictProblem(e);
      });
      const explanations =
        explain && instances ? await this.explainTexts(deployment.ref, instances, explain) : undefined;
      return {
        deploymentId: deployment.id,
        modelId: result.modelId,
        modelVersion: result.version,
        predictions: explanations
          ? result.predictions.map((p, i) => {
              const { modelId: _m, modelVersion: _v, ...explanation } = explanations[i];
              return { ...p, explanation };
            })
          : result.predictions,
      };
    }
    // Validated before any work: a bad explain option changes nothing.
    const explain = input.explain === undefined ? undefined : parseExplainOptions(input.explain);
    if (explain && input.images.length > MAX_EXPLAINED_IMAGES)
      throw new ProblemError({
        status: 400,
        code: 'VALIDATION_FAILED',
        title: 'Too many images to explain',
        detail: `explain: at most ${MAX_EXPLAINED_IMAGES} images per predict request may be explained (got ${input.images.length})`,
        extensions: { errors: [{ field: 'explain', messages: [`at most ${MAX_EXPLAINED_IMAGES} images`] }] },
      });
    const topK = input.topK ?? deployment.topK ?? DEFAULT_TOP_K;
    const deadline = started + this.config.SERVING_REQUEST_TIMEOUT_MS;
    const result = await this.engine
      .predict(deployment.ref, input.images, { topK, deadline })
      .catch((e: unknown) => {
        throw predictProblem(e);
      });
    const predictions = explain
      ? await this.withExplanations(deployment.ref, input.images, result.predictions, explain, deadline)
      : result.predictions;
    return {
      deploymentId: deployment.id,
      modelId: result.modelId,
      modelVersion: result.version,
      predictions,
    };
  }

  private async withExplanations<P extends object>(
    ref: ModelRef,
    images: Buffer[],
    predictions: P[],
    options: ExplainOptions,
    deadline: number,
  ): Promise<Array<P & { explanation: ReturnType<typeof explanationBody> }>> {
    const out: Array<P & { explanation: ReturnType<typeof explanationBody> }> = [];
    for (const [i, image] of images.entries()) {
      const r = await this.engine
        .explain(ref, image, options.request, { deadline, grid: options.grid, overlay: options.overlay })
        .catch((e: unknown) => {
          throw predictProblem(e);
        });
      out.push({ ...predictions[i], explanation: explanationBody(r) });
    }
    return out;
  }

  private async explain(req: IncomingMessage, principal: TenantPrincipal, modelId: string, started: number) {
    const model = await this.models.resolve(principal.tenantId, modelId);
    const input = await readPredictImages(req, {
      maxBytes: this.config.SERVING_MAX_REQUEST_BYTES,
      maxImages: 1,
      maxInstances: 1,
    });
    if (model.kind === 'text' || input.instances) {
      if (model.kind !== 'text' || !input.instances)
        throw predictProblem(
          new ModelInputMismatchError(
            model.kind === 'text' ? 'text-classification' : 'image-classification',
            model.kind === 'text'
              ? 'this model classifies text; send JSON {"instances": ["..."]}, not images'
              : 'this model classifies images; send an image, not "instances" of text',
          ),
        );
      const options = parseTextExplainOptions(input.explain ?? {});
      const [r] = await this.explainTexts(model.ref, input.instances, options);
      return r;
    }
    const ref = model.ref;
    const options = parseExplainOptions(input.explain ?? {});
    const r = await this.engine
      .explain(ref, input.images[0], options.request, {
        deadline: started + this.config.SERVING_REQUEST_TIMEOUT_MS,
        grid: options.grid,
        overlay: options.overlay,
      })
      .catch((e: unknown) => {
        throw predictProblem(e);
      });
    return { modelId: r.modelId, modelVersion: r.version, ...explanationBody(r) };
  }

  /** Word-level LIME of each text (at most MAX_EXPLAINED_TEXT_CHARS characters each). */
  private async explainTexts(ref: ModelRef, instances: unknown[], options: TextExplainOptions) {
    for (const [i, t] of instances.entries())
      if (typeof t === 'string' && t.length > MAX_EXPLAINED_TEXT_CHARS)
        throw new ProblemError({
          status: 400,
          code: 'VALIDATION_FAILED',
          title: 'Text too long to explain',
          detail: `instances[${i}]: has ${t.length} characters; at most ${MAX_EXPLAINED_TEXT_CHARS} are explained`,
          extensions: {
            errors: [
              { field: `instances[${i}]`, messages: [`at most ${MAX_EXPLAINED_TEXT_CHARS} characters`] },
            ],
          },
        });
    const { samples, maxWords, target, seed } = options;
    const request = { samples, maxWords, seed, ...(target !== undefined ? { target } : {}) };
    const results = await this.text.explain(ref, instances, request).catch((e: unknown) => {
      throw predictProblem(e);
    });
    return results.map(({ modelId, version, ...r }) => ({ modelId, modelVersion: version, ...r }));
  }

  private accessLog(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    started: number,
    target: { deploymentId: string } | { modelId: string },
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
        ...target,
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
