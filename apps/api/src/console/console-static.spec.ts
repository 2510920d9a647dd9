import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import request from 'supertest';
import { findConsoleDir, serveConsole } from './console-static';

/** The console's routes on a bare express app (serveConsole only mounts middleware). */
function appWith(dir: string | null) {
  const app = express();
  serveConsole(app as unknown as NestExpressApplication, dir);
  app.use((_req, res) => res.status(404).json({ code: 'NOT_FOUND' }));
  return app;
}

describe('console static files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ms-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>c</title>');
  writeFileSync(join(dir, 'assets', 'main-ABC123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'main-ABC123.css'), 'body{}');

  it('redirects / and /console to /console/, which is index.html revalidated on every load', async () => {
    const app = appWith(dir);
    expect((await request(app).get('/')).headers.location).toBe('/console/');
    const bare = await request(app).get('/console');
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe('/console/');
    const index = await request(app).get('/console/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(index.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.text).toContain('<title>c</title>');
  });

  it('serves hashed assets as immutable with their content type; anything else falls through', async () => {
    const app = appWith(dir);
    const js = await request(app).get('/console/assets/main-ABC123.js');
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toMatch(/max-age=31536000.*immutable/);
    expect((await request(app).get('/console/assets/main-ABC123.css')).headers['content-type']).toMatch(
      /^text\/css/,
    );
    expect((await request(app).get('/console/assets/../index.html')).status).not.toBe(500);
    expect((await request(app).get('/console/assets/none.js')).status).toBe(404);
    // Broken percent-encoding and traversal fall through to the app's 404 (a problem in the API).
    expect((await request(app).get('/console/assets/%E0%A4%A')).status).toBe(404);
    expect((await request(app).get('/console/assets/%2e%2e/index.html')).status).toBe(404);
    expect((await request(app).get('/console/other')).status).toBe(404);
    expect((await request(app).post('/console/')).status).toBe(404);
    expect((await request(app).get('/v1/datasets')).status).toBe(404);
  });

  it('answers a problem saying how to build it when the console is not built', async () => {
    const res = await request(appWith(null)).get('/console/');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.text)).toMatchObject({
      code: 'NOT_FOUND',
      detail: expect.stringMatching(/npm run build/),
    });
  });

  it('finds dist/console from the compiled API and from its sources', () => {
    const root = mkdtempSync(join(tmpdir(), 'ms-root-'));
    mkdirSync(join(root, 'dist', 'console'), { recursive: true });
    writeFileSync(join(root, 'dist', 'console', 'index.html'), '');
    expect(findConsoleDir(join(root, 'dist', 'apps', 'api', 'src', 'console'))).toBe(
      join(root, 'dist', 'console'),
    );
    expect(findConsoleDir(join(root, 'apps', 'api', 'src', 'console'))).toBe(join(root, 'dist', 'console'));
    expect(findConsoleDir(join(tmpdir(), 'nowhere', 'a', 'b', 'c'))).toBeUndefined();
  });
});
