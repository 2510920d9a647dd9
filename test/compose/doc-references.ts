import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';
import { ROOT } from './compose-file';

/** Where a doc names something: `docs/jobs.md:12`. */
export interface DocReference {
  name: string;
  at: string;
}

/** An HTTP route as a doc names it; method undefined when the doc names only the path. */
export interface DocRoute {
  method?: string;
  /** Path with every parameter spelled `:param`, without query. */
  path: string;
  at: string;
}

export const DOC_FILES = (): string[] =>
  [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ].sort();

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** `{live,ready}` -> both; one level, as docs write it. */
function expandBraces(path: string): string[] {
  const m = /\{([^{}]*,[^{}]*)\}/.exec(path);
  if (!m) return [path];
  return m[1]
    .split(',')
    .flatMap((alt) => expandBraces(path.slice(0, m.index) + alt + path.slice(m.index + m[0].length)));
}

/** Drops the query and trailing punctuation; every parameter (`:id`, `$DS`, `${JOB}`, `<id>`) becomes `:param`. */
export function normalisePath(raw: string): string {
  const path = raw.replace(/[?#[].*$/, '').replace(/[.,;:]+$/, '');
  const segments = path
    .split('/')
    .filter((s, i) => i === 0 || s !== '')
    .map((s) => (/^(:|\$|<)/.test(s) ? ':param' : s));
  return segments.join('/') || '/';
}

/** Lines of a markdown text with shell continuations (`\` at the end) joined, each with its 1-based number. */
function logicalLines(text: string): { line: string; n: number }[] {
  const out: { line: string; n: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    let line = lines[i];
    while (/\\\s*$/.test(line) && i + 1 < lines.length) line = line.replace(/\\\s*$/, ' ') + lines[++i];
    out.push({ line, n });
  }
  return out;
}

/** The method curl uses: `-X`/`--request`, else POST when it sends a body or form, else GET. */
function curlMethod(args: string): string {
  const explicit = /(?:^|\s)(?:-X\s*|--request\s+)([A-Z]+)/.exec(args);
  if (explicit) return explicit[1];
  return /(?:^|\s)(?:-d|--data(?:-[a-z]+)?|-F|--form|-T|--upload-file)(?:\s|=|$)/.test(args) ? 'POST' : 'GET';
}

// A URL's path as a curl argument: after $VAR, ${VAR} or scheme://host[:port].
const CURL_URL = /(?:\$\{?[A-Z_]+\}?|https?:\/\/[\w.-]+(?::\d+)?)(\/[^\s"'|)]*)/;
// METHOD /path (the path starts with '/').
const METHOD_PATH = new RegExp(`\\b(${METHODS.join('|')})\\s+(/[^\\s\`|)\\]"']*)`, 'g');
// /v1/… anywhere, with what precedes it in the same token.
const V1_PATH = /([^\s`"'(|]*)(\/v1\/(?:\{[^}\s]*\}|[^\s`"'|),;{])*)/g;
// What may precede /v1/ for it to be a route: nothing, $VAR, or [scheme://]host:port (not an object key's path).
const V1_LEAD = /^(?:|\$\{?\w+\}?|(?:https?:\/\/)?[\w.-]+:\d+|https?:\/\/[\w.-]+)$/;

/** Every HTTP route a markdown text names: `METHOD /path`, curl commands, and bare `/v1/…` paths. */
export function routesIn(text: string, file: string): DocRoute[] {
  const routes: DocRoute[] = [];
  const add = (method: string | undefined, raw: string, n: number) => {
    if (raw.includes('…')) return; // an elided path (`POST …/complete`) names nothing checkable
    for (const path of expandBraces(raw))
      routes.push({ method, path: normalisePath(path), at: `${file}:${n}` });
  };
  for (const { line, n } of logicalLines(text)) {
    let rest = line;
    const curls = line.split(/\bcurl\b/).slice(1);
    for (const args of curls) {
      const url = CURL_URL.exec(args);
      if (url) add(curlMethod(args), url[1], n);
    }
    if (curls.length) rest = line.split(/\bcurl\b/)[0];
    rest = rest.replace(METHOD_PATH, (_all, method: string, path: string) => {
      add(method, path, n);
      return ' ';
    });
    for (const m of rest.matchAll(V1_PATH)) if (V1_LEAD.test(m[1])) add(undefined, m[2], n);
  }
  return routes;
}

/** UPPER_SNAKE names inside inline code spans (fenced blocks excluded) that look like environment variables. */
export function upperSnakeNamesIn(text: string, file: string): DocReference[] {
  const names: DocReference[] = [];
  const lines = text.split('\n');
  let fenced = false;
  lines.forEach((line, i) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    for (const span of line.matchAll(/`([^`]+)`/g)) {
      for (const m of span[1].matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g))
        names.push({ name: m[0], at: `${file}:${i + 1}` });
    }
  });
  return names;
}

// ---- routes of the apps, read statically from their Nest decorators ----

const HTTP_DECORATORS: Record<string, string> = {
  Get: 'GET',
  Post: 'POST',
  Put: 'PUT',
  Patch: 'PATCH',
  Delete: 'DELETE',
  Head: 'HEAD',
  Options: 'OPTIONS',
  Sse: 'GET',
};

function filesUnder(dir: string, suffix: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(suffix) && !f.endsWith(`.spec${suffix}`))
    .map((f) => join(dir, f));
}

function decoratorCall(node: ts.Node): { name: string; arg?: ts.Expression } | undefined {
  if (!ts.canHaveDecorators(node)) return undefined;
  for (const d of ts.getDecorators(node) ?? []) {
    if (ts.isCallExpression(d.expression) && ts.isIdentifier(d.expression.expression)) {
      const name = d.expression.expression.text;
      if (name === 'Controller' || name in HTTP_DECORATORS) return { name, arg: d.expression.arguments[0] };
    }
  }
  return undefined;
}

function stringArg(arg: ts.Expression | undefined, where: string): string {
  if (!arg) return '';
  if (ts.isStringLiteralLike(arg)) return arg.text;
  throw new Error(
    `${where}: route path is not a string literal; teach test/compose/doc-references.ts to read it`,
  );
}

/** `setGlobalPrefix('v1')` or `setGlobalPrefix(CONST)` with `const CONST = 'v1'` in the same file; '' without one. */
function globalPrefix(appSrc: string): string {
  for (const file of filesUnder(appSrc, '.ts')) {
    const text = readFileSync(file, 'utf8');
    const m = /setGlobalPrefix\(\s*(?:'([^']*)'|([A-Za-z_$][\w$]*))\s*\)/.exec(text);
    if (!m) continue;
    if (m[1] !== undefined) return m[1];
    const constant = new RegExp(`const ${m[2]} = '([^']*)'`).exec(text);
    if (!constant) throw new Error(`${relative(ROOT, file)}: cannot resolve setGlobalPrefix(${m[2]})`);
    return constant[1];
  }
  return '';
}

export interface AppRoute {
  method: string;
  path: string;
  app: string;
}

/** Every route the Nest controllers of apps/<app> declare (method + full path with its global prefix; params as `:param`). */
export function nestRoutes(app: string): AppRoute[] {
  const src = join(ROOT, 'apps', app, 'src');
  const prefix = globalPrefix(src);
  const routes: AppRoute[] = [];
  for (const file of filesUnder(src, '.controller.ts')) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const where = relative(ROOT, file);
    source.forEachChild((node) => {
      if (!ts.isClassDeclaration(node)) return;
      const controller = decoratorCall(node);
      if (controller?.name !== 'Controller') return;
      const base = stringArg(controller.arg, where);
      for (const member of node.members) {
        const route = decoratorCall(member);
        if (!route || route.name === 'Controller') continue;
        const path = normalisePath(
          `/${[prefix, base, stringArg(route.arg, where)].filter(Boolean).join('/')}`,
        );
        routes.push({ method: HTTP_DECORATORS[route.name], path, app });
      }
    });
  }
  return routes;
}
