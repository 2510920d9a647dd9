import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { configSchema } from '@modelsmith/config';
import { applyCors, corsOrigins } from './cors';

const config = (env: Record<string, string>) =>
  configSchema.parse({ STORAGE_DIR: '/tmp/x', STORAGE_URL_SECRET: 'x'.repeat(32), ...env });

class FakeResponse extends EventEmitter {
  headers: Record<string, string> = {};
  status?: number;
  ended = false;
  setHeader(k: string, v: string) {
    this.headers[k.toLowerCase()] = v;
  }
  writeHead(status: number, h: Record<string, string>) {
    this.status = status;
    for (const [k, v] of Object.entries(h)) this.setHeader(k, v);
  }
  end() {
    this.ended = true;
  }
}
const req = (method: string, origin?: string) =>
  ({ method, headers: origin ? { origin } : {} }) as unknown as IncomingMessage;

describe('serving CORS (the web console calls predict and explain from the API origin)', () => {
  it("allows the API's own origin by default, both loopback spellings", () => {
    const o = corsOrigins(config({ API_PORT: '3000' }));
    expect(o).toEqual(new Set(['http://127.0.0.1:3000', 'http://localhost:3000']));
    expect(corsOrigins(config({ PUBLIC_URL: 'https://ms.example.com/', API_HOST: '0.0.0.0' }))).toEqual(
      new Set(['https://ms.example.com', 'http://127.0.0.1:3000', 'http://localhost:3000']),
    );
    expect(corsOrigins(config({ SERVING_CORS_ORIGINS: 'https://a.example, https://b.example/' }))).toEqual(
      new Set(['https://a.example', 'https://b.example']),
    );
    expect(corsOrigins(config({ SERVING_CORS_ORIGINS: '*' }))).toBe('*');
  });

  it('answers an allowed preflight with the methods and headers, never credentials', () => {
    const res = new FakeResponse();
    const allowed = new Set(['http://127.0.0.1:3000']);
    expect(
      applyCors(allowed, req('OPTIONS', 'http://127.0.0.1:3000'), res as unknown as ServerResponse),
    ).toBe(true);
    expect(res.status).toBe(204);
    expect(res.ended).toBe(true);
    expect(res.headers['access-control-allow-origin']).toBe('http://127.0.0.1:3000');
    expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('gives another origin no allow header, and lets a POST through to the handler', () => {
    const allowed = new Set(['http://127.0.0.1:3000']);
    const pre = new FakeResponse();
    expect(applyCors(allowed, req('OPTIONS', 'https://evil.example'), pre as unknown as ServerResponse)).toBe(
      true,
    );
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const post = new FakeResponse();
    expect(applyCors(allowed, req('POST', 'http://127.0.0.1:3000'), post as unknown as ServerResponse)).toBe(
      false,
    );
    expect(post.ended).toBe(false);
    expect(post.headers['access-control-allow-origin']).toBe('http://127.0.0.1:3000');
    expect(post.headers['access-control-expose-headers']).toMatch(/Retry-After/);
    expect(post.headers.vary).toBe('Origin');
  });
});
