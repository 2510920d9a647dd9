import type { NestExpressApplication } from '@nestjs/platform-express';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { json, urlencoded, type RequestHandler } from 'express';
import type { AppConfig } from '@modelsmith/config';
import { SERVING_OPENAPI_PATHS, SERVING_OPENAPI_SCHEMAS } from '@modelsmith/contracts';
import { answerClientErrors, verifyJsonBody } from '@modelsmith/http';
import { ProblemFilter } from '@modelsmith/http/nest';
import { OBJECTS_ROUTE } from '@modelsmith/storage';
import { createValidationPipe } from './common/validation';
import { serveConsole } from './console/console-static';

export const API_PREFIX = 'v1';

/** Everything applied to the Nest app besides modules; shared by main.ts and the tests. */
export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.setGlobalPrefix(API_PREFIX);
  // Bodies are read defensively: size-capped, JSON only in UTF-8 and at most MAX_JSON_DEPTH levels deep
  // (checked on the raw bytes, before parsing), forms at most 1,000 fields; every failure of reading one
  // (bad Content-Encoding, corrupt gzip, unknown charset) is a 4xx problem (toProblem). Object part
  // uploads (PUT /v1/objects/...) stream their body to the store whatever its type.
  const parsed =
    (parser: RequestHandler): RequestHandler =>
    (req, res, next) =>
      req.path.startsWith(OBJECTS_ROUTE) ? next() : parser(req, res, next);
  app.use(parsed(json({ limit: config.API_BODY_LIMIT_BYTES, verify: verifyJsonBody() })));
  app.use(parsed(urlencoded({ extended: false, limit: config.API_BODY_LIMIT_BYTES, parameterLimit: 1000 })));
  answerClientErrors(app.getHttpServer());
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemFilter());

  serveConsole(app);

  const document = openApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/openapi.json',
    useGlobalPrefix: false,
  });
}

/**
 * The API's OpenAPI document, as served at /docs/openapi.json; also what `npm run sdk:generate` writes
 * to libs/sdk (scripts/openapi.ts builds it from an app created in preview mode, with no connections).
 */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const doc = new DocumentBuilder()
    .setTitle('Modelsmith API')
    .setDescription(
      'Multi-tenant AutoDL platform: upload labeled data, train models under a budget, evaluate, deploy. ' +
        'Authenticate with `Authorization: Bearer <api key>` (keys look like `msk_…`). Errors are RFC 9457 ' +
        'problem+json documents with a stable `code`.',
    )
    .setVersion('1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      description: 'API key (msk_…) or the operator ADMIN_TOKEN',
    })
    .build();
  const document = SwaggerModule.createDocument(app, doc);
  // The serving app's predict and explain routes (answered outside Nest's router, so described by hand).
  Object.assign(document.paths, SERVING_OPENAPI_PATHS);
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...SERVING_OPENAPI_SCHEMAS },
  };
  return document;
}
