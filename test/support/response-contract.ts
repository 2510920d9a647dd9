import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';

/**
 * Checks API answers against the OpenAPI document the SDK is generated from (libs/sdk/openapi.json):
 * `call()` runs every 2xx JSON answer of the end-to-end specs through it, so a controller that answers
 * other than it documents (a missing field, a null where none is allowed, a wrong type) fails a spec
 * instead of a user of the typed SDK. Extra fields pass (the document does not close its objects).
 */

type Json = Record<string, unknown>;
interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: Json }> }>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Json> };
}

const ROOT = 'openapi';

/** OpenAPI 3.0 → JSON Schema: `nullable` becomes an explicit null alternative; refs point into ROOT. */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === '$ref' && typeof v === 'string') out[k] = v.replace(/^#\/components/, `${ROOT}#/components`);
    else if (k === 'nullable' || k === 'example') continue;
    else out[k] = toJsonSchema(v);
  }
  return (node as Json).nullable === true ? { anyOf: [{ type: 'null' }, out] } : out;
}

interface Route {
  method: string;
  pattern: RegExp;
  /** Template segments: a literal route wins over a templated one that also matches. */
  params: number;
  responses: Map<number, ValidateFunction>;
}

let routes: Route[] | undefined;

function load(): Route[] {
  const doc = JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'libs', 'sdk', 'openapi.json'), 'utf8'),
  ) as Doc;
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ components: toJsonSchema(doc.components ?? {}) as Json }, ROOT);
  const out: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops)) {
      const responses = new Map<number, ValidateFunction>();
      for (const [code, r] of Object.entries(op.responses ?? {})) {
        const schema = r.content?.['application/json']?.schema;
        if (/^2\d\d$/.test(code) && schema && Object.keys(schema).length > 0)
          responses.set(Number(code), ajv.compile(toJsonSchema(schema) as Json));
      }
      const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
      out.push({
        method: method.toUpperCase(),
        pattern: new RegExp(`^${source}$`),
        params: (path.match(/\{/g) ?? []).length,
        responses,
      });
    }
  return out.sort((a, b) => a.params - b.params);
}

/**
 * Throws when `body` is a documented 2xx JSON answer of `method path` that does not match its schema.
 * Answers the document does not describe (other statuses, undocumented routes, non-JSON) pass.
 */
export function assertDocumentedAnswer(method: string, path: string, status: number, body: unknown): void {
  routes ??= load();
  const bare = path.split('?')[0];
  const route = routes.find((r) => r.method === method.toUpperCase() && r.pattern.test(bare));
  const validate = route?.responses.get(status);
  if (!validate || validate(body)) return;
  const errors = (validate.errors ?? [])
    .slice(0, 8)
    .map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}`)
    .join('; ');
  throw new Error(`${method} ${bare} answered ${status} other than the OpenAPI document says: ${errors}`);
}
