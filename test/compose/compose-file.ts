import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';

export const ROOT = join(__dirname, '..', '..');

export interface Healthcheck {
  test?: string[] | string;
  disable?: boolean;
}

export interface ComposeService {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string[];
  restart?: string;
  stop_grace_period?: string;
  ports?: string[];
  profiles?: string[];
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: Healthcheck;
  deploy?: {
    resources?: {
      reservations?: { devices?: { driver?: string; count?: string | number; capabilities?: string[] }[] };
    };
  };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** Variables the compose file references, as `${NAME}`, `${NAME:-default}` or `${NAME-default}`. */
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

/** Compose-style interpolation against `env` (defaults apply when unset; `:-` also when empty). */
export function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(VARIABLE, (_m, name: string, op: string | undefined, arg: string | undefined) => {
    const value = env[name];
    if (op === ':-') return value ? value : (arg ?? '');
    if (op === '-') return value ?? arg ?? '';
    if (op === ':?' || op === '?') {
      if (value === undefined || (op === ':?' && value === ''))
        throw new Error(`variable ${name} is required: ${arg ?? ''}`);
      return value;
    }
    return value ?? '';
  });
}

export function variablesIn(text: string): { name: string; op: string | undefined }[] {
  return [...text.matchAll(VARIABLE)].map((m) => ({ name: m[1], op: m[2] }));
}

export function readText(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** Parses YAML strictly (merge keys on, errors thrown) after interpolating `env`. */
export function loadCompose(env: Record<string, string> = {}): ComposeFile {
  const doc = parseDocument(interpolate(readText('docker-compose.yml'), env), {
    merge: true,
    prettyErrors: true,
  });
  if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('\n'));
  return doc.toJS() as ComposeFile;
}

export function loadYamlDocuments(path: string): Record<string, unknown>[] {
  const docs = parseAllDocuments(readText(path));
  if (!Array.isArray(docs)) throw new Error(`${path}: not a YAML stream`);
  return docs.map((d) => {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors.map((e) => e.message).join('\n')}`);
    return d.toJS() as Record<string, unknown>;
  });
}

/** The environment a service's container gets, as strings (what process.env would hold). */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.environment ?? {}))
    if (v !== null && v !== undefined) env[k] = String(v);
  return env;
}
