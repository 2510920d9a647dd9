/**
 * The operations the API fuzzer calls: the API's from its OpenAPI document (GET /docs/openapi.json),
 * the serving app's (which has no document) from its Nest controllers plus its predict route.
 */
import { nestRoutes } from '../../compose/doc-references';
import { explainRouteId, predictRouteId } from '../../../apps/serving/src/predict/predict-route';

export interface JsonSchema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
}

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
  /** A wildcard path parameter (`*key`): its value may span segments. */
  wildcard?: boolean;
}

/** Which credential reaches an operation's validation: a tenant's ADMIN key, the operator ADMIN_TOKEN, or none. */
export type Credential = 'tenant' | 'operator' | 'none';

export interface Operation {
  app: 'api' | 'serving';
  method: string;
  /** Path template with `{param}` placeholders, as in OpenAPI. */
  path: string;
  params: Param[];
  /** Content types the operation documents and the schema of its body (JSON or form fields). */
  body?: { types: string[]; schema: JsonSchema };
  credential: Credential;
}

export const opKey = (op: Pick<Operation, 'method' | 'path'>): string => `${op.method} ${op.path}`;

interface OpenApiOperation {
  parameters?: { name: string; in: string; required?: boolean; schema?: JsonSchema }[];
  requestBody?: { content: Record<string, { schema?: JsonSchema }> };
  security?: unknown[];
}

export interface OpenApiDocument {
  /** A path item with its own `servers` is served by another app (the serving app's predict and explain). */
  paths: Record<string, Record<string, OpenApiOperation> & { servers?: unknown[] }>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** Inlines every `$ref` to `#/components/schemas/...` (the document's schemas have no cycles; a cycle stops at depth 8). */
export function derefSchema(schema: unknown, doc: OpenApiDocument, depth = 0): JsonSchema {
  if (depth > 8 || typeof schema !== 'object' || schema === null) return {};
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    return derefSchema(doc.components?.schemas?.[name], doc, depth + 1);
  }
  const out: JsonSchema = { ...(schema as JsonSchema) };
  if (out.properties)
    out.properties = Object.fromEntries(
      Object.entries(out.properties).map(([k, v]) => [k, derefSchema(v, doc, depth + 1)]),
    );
  if (out.items) out.items = derefSchema(out.items, doc, depth + 1);
  return out;
}

/** Operator routes take the ADMIN_TOKEN (a tenant's key gets 403 before validation). */
function credentialOf(path: string, op: OpenApiOperation): Credential {
  if (!op.security) return 'none';
  return path.startsWith('/v1/admin/') ? 'operator' : 'tenant';
}

export function operationsFromOpenApi(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (item.servers) continue; // not the API's: servingOperations() lists them
    for (const [method, op] of Object.entries(item) as [string, OpenApiOperation][]) {
      if (!HTTP_METHODS.has(method)) continue;
      const params: Param[] = (op.parameters ?? [])
        .filter((p) => p.in === 'path' || p.in === 'query' || p.in === 'header')
        .map((p) => ({
          name: p.name,
          in: p.in as Param['in'],
          required: p.required ?? p.in === 'path',
          schema: derefSchema(p.schema ?? {}, doc),
        }));
      const content = op.requestBody?.content;
      const body = content
        ? { types: Object.keys(content), schema: derefSchema(Object.values(content)[0]?.schema ?? {}, doc) }
        : undefined;
      ops.push({
        app: 'api',
        method: method.toUpperCase(),
        path,
        params,
        body,
        credential: credentialOf(path, op),
      });
    }
  }
  return ops;
}

/** `/v1/jobs/:param` and `/v1/objects/*key` as OpenAPI templates: `/v1/jobs/{p0}`, `/v1/objects/{key}` (a wildcard may hold slashes). */
function templateOf(path: string): { path: string; params: Param[] } {
  let n = 0;
  const params: Param[] = [];
  const out = path.replace(/:param|\*(\w+)/g, (_m, wildcard?: string) => {
    const name = wildcard ?? `p${n++}`;
    params.push({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
      ...(wildcard ? { wildcard: true } : {}),
    });
    return `{${name}}`;
  });
  return { path: out, params };
}

const sameRoute = (a: string, b: string) => a.replace(/\{[^}]+\}/g, '{}') === b.replace(/\{[^}]+\}/g, '{}');

/**
 * Routes the API's controllers declare that its document leaves out (`@ApiExcludeController`: the
 * filesystem store's presigned object URLs), read from the controllers like the serving app's.
 * Public routes (no bearer credential): their URL's signature is the credential.
 */
export function undocumentedApiOperations(documented: Operation[]): Operation[] {
  return nestRoutes('api')
    .map((r) => ({ method: r.method, ...templateOf(r.path) }))
    .filter((r) => !documented.some((d) => d.method === r.method && sameRoute(d.path, r.path)))
    .map((r) => ({
      app: 'api',
      method: r.method,
      path: r.path,
      params: r.params,
      credential: 'none',
      ...(r.method === 'PUT' ? { body: { types: ['application/octet-stream'], schema: {} } } : {}),
    }));
}

/** The serving app's predict route (answered by PredictHandler before Nest's router; see predict-route.ts). */
export const PREDICT_TEMPLATE = '/v1/deployments/{id}/predict';

/** `{ images: [base64...], image?, topK? }` as JSON, or file parts plus a `topK` field as multipart (read-images.ts). */
const PREDICT_BODY: Operation['body'] = {
  types: ['multipart/form-data', 'application/json', 'image/png', 'application/octet-stream'],
  schema: {
    type: 'object',
    properties: {
      images: { type: 'array', items: { type: 'string', format: 'byte' } },
      topK: { type: 'integer', minimum: 1, maximum: 100 },
      file: { type: 'string', format: 'binary' },
    },
    required: ['images'],
  },
};

/** The serving app's explain route (answered by PredictHandler too). */
export const EXPLAIN_TEMPLATE = '/v1/models/{id}/explain';

/** The serving app's operations: every route its controllers declare, and the predict and explain routes. */
export function servingOperations(): Operation[] {
  if (predictRouteId('POST', PREDICT_TEMPLATE.replace('{id}', 'x')) !== 'x')
    throw new Error('serving predict route moved: update PREDICT_TEMPLATE');
  if (explainRouteId('POST', EXPLAIN_TEMPLATE.replace('{id}', 'x')) !== 'x')
    throw new Error('serving explain route moved: update EXPLAIN_TEMPLATE');
  const routes: Operation[] = nestRoutes('serving').map((r) => {
    const { path, params } = templateOf(r.path);
    return {
      app: 'serving',
      method: r.method,
      path,
      params,
      credential: path.includes('/health/') ? 'none' : 'operator',
    };
  });
  routes.push({
    app: 'serving',
    method: 'POST',
    path: PREDICT_TEMPLATE,
    params: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    body: PREDICT_BODY,
    credential: 'tenant',
  });
  routes.push({
    app: 'serving',
    method: 'POST',
    path: EXPLAIN_TEMPLATE,
    params: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    body: PREDICT_BODY,
    credential: 'tenant',
  });
  return routes;
}
