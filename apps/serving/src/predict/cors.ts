import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from '@modelsmith/config';

/** Headers a browser may read from a predict answer (rate limits, shedding). */
const EXPOSED = 'Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-Request-Id';

/**
 * The browser origins allowed to call predict and explain: SERVING_CORS_ORIGINS, else the API's own
 * origin (where the web console is served), with both loopback spellings when it is on loopback.
 */
export function corsOrigins(cfg: AppConfig): Set<string> | '*' {
  if (cfg.SERVING_CORS_ORIGINS?.includes('*')) return '*';
  if (cfg.SERVING_CORS_ORIGINS) return new Set(cfg.SERVING_CORS_ORIGINS);
  const origins = new Set<string>();
  if (cfg.PUBLIC_URL) origins.add(new URL(cfg.PUBLIC_URL).origin);
  const host = cfg.API_HOST === '0.0.0.0' || cfg.API_HOST === '::' ? '127.0.0.1' : cfg.API_HOST;
  const own = new URL(`http://${host.includes(':') ? `[${host}]` : host}:${cfg.API_PORT}`);
  origins.add(own.origin);
  if (own.hostname === '127.0.0.1' || own.hostname === 'localhost') {
    origins.add(`http://127.0.0.1:${cfg.API_PORT}`);
    origins.add(`http://localhost:${cfg.API_PORT}`);
  }
  return origins;
}

/**
 * CORS for predict and explain (the web console calls them from the API's origin). Credentials are
 * never allowed: requests carry their API key in the Authorization header, nothing ambient. Answers a
 * preflight (OPTIONS) itself and returns true; otherwise adds the allow headers and returns false.
 */
export function applyCors(allowed: Set<string> | '*', req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  const ok = typeof origin === 'string' && (allowed === '*' || allowed.has(origin));
  if (ok) {
    res.setHeader('Access-Control-Allow-Origin', allowed === '*' ? '*' : origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED);
  }
  res.setHeader('Vary', 'Origin');
  if (req.method !== 'OPTIONS') return false;
  if (ok) {
    res.setHeader('Access-Control-Allow-Methods', 'POST');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    res.setHeader('Access-Control-Max-Age', '600');
  }
  res.writeHead(204, { 'Content-Length': '0' });
  res.end();
  return true;
}
