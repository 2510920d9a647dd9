import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { static as serveStatic, type Request, type Response } from 'express';
import { problemBody, ProblemError } from '@modelsmith/http';

/** Where the web console is served (apps/console, built into dist/console by `npm run build`). */
export const CONSOLE_ROUTE = '/console';

/**
 * The built console: dist/console next to the compiled API (dist/apps/api/src/console -> dist/console),
 * or the repository's dist/console when the API runs from its sources (tests). Undefined when not built.
 */
export function findConsoleDir(from = __dirname): string | undefined {
  const up = resolve(from, '..', '..', '..', '..');
  return [join(up, 'console'), join(up, 'dist', 'console')].find((d) => existsSync(join(d, 'index.html')));
}

/**
 * Browsers may run only the console's own scripts and styles (no inline script), connect to any
 * origin (the serving app and an S3 store have their own), and show images from anywhere (presigned
 * thumbnails) or from blobs (a dropped image).
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: http: https:",
  "connect-src 'self' http: https:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

function secure(res: Response): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Content-Security-Policy', CSP);
}

/**
 * Serves the console under /console/: index.html revalidated on every load (it names the current
 * bundle), hashed assets under /console/assets/ cached for a year as immutable; `/` redirects there.
 * Without a build, /console/ answers a 404 problem saying how to build it.
 */
export function serveConsole(
  app: NestExpressApplication,
  dir: string | null = findConsoleDir() ?? null,
): void {
  const index = dir ? readFileSync(join(dir, 'index.html')) : undefined;
  app.use(CONSOLE_ROUTE, (req: Request, res: Response, next: () => void) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path.startsWith('/assets/')) return next();
    if (req.path !== '/' && req.path !== '/index.html') return next();
    if (req.originalUrl === CONSOLE_ROUTE) return res.redirect(301, `${CONSOLE_ROUTE}/`);
    if (!index) {
      res
        .status(404)
        .type('application/problem+json')
        .send(
          problemBody(
            new ProblemError({
              status: 404,
              code: 'NOT_FOUND',
              title: 'Console not built',
              detail: 'the web console is not built here: run `npm run build`',
            }),
            req.originalUrl,
            undefined,
          ),
        );
      return;
    }
    secure(res);
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(index);
  });
  if (dir)
    app.use(
      `${CONSOLE_ROUTE}/assets`,
      serveStatic(join(dir, 'assets'), {
        index: false,
        redirect: false,
        fallthrough: true,
        immutable: true,
        maxAge: '365d',
        setHeaders: (res) => res.setHeader('X-Content-Type-Options', 'nosniff'),
      }),
    );
  app.use('/', (req: Request, res: Response, next: () => void) =>
    req.path === '/' && (req.method === 'GET' || req.method === 'HEAD')
      ? res.redirect(302, `${CONSOLE_ROUTE}/`)
      : next(),
  );
}
