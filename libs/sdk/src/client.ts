import createClient, { type Client, type FetchResponse } from 'openapi-fetch';
import type { components, paths } from './schema';
import { problemOf } from './problem';

export type Schemas = components['schemas'];
export type ApiClient = Client<paths>;

export interface ClientOptions {
  /** The API's origin, e.g. http://127.0.0.1:3000 (routes carry their /v1 prefix). */
  baseUrl: string;
  /** An API key (msk_…) or the operator's ADMIN_TOKEN. */
  apiKey: string;
  /** Defaults to the global fetch; tests and proxies may pass their own. */
  fetch?: typeof fetch;
  userAgent?: string;
}

/**
 * The typed client over the platform's OpenAPI document: `client.api` is an openapi-fetch client
 * whose paths, parameters and bodies are checked by the compiler against libs/sdk/src/schema.ts, so a
 * changed route breaks the build of everything that uses it. `ok()` turns an answer into its data or
 * a ModelsmithError carrying the problem document.
 */
export class ModelsmithClient {
  readonly api: ApiClient;
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  private readonly headers: Record<string, string>;

  constructor(o: ClientOptions) {
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.fetch = o.fetch ?? globalThis.fetch.bind(globalThis);
    this.headers = {
      authorization: `Bearer ${o.apiKey}`,
      'user-agent': o.userAgent ?? 'modelsmith-sdk',
    };
    this.api = createClient<paths>({ baseUrl: this.baseUrl, headers: this.headers, fetch: this.fetch });
  }

  /** The data of a successful answer; a ModelsmithError (status, problem, Retry-After) otherwise. */
  async ok<T extends Record<string | number, unknown>, O, M extends `${string}/${string}`>(
    pending: Promise<FetchResponse<T, O, M>>,
  ): Promise<NonNullable<FetchResponse<T, O, M>['data']>> {
    const r = await pending;
    if (r.error !== undefined || !r.response.ok) throw await problemOf(r.response, r.error);
    return r.data as NonNullable<FetchResponse<T, O, M>['data']>;
  }

  /** A request outside the typed routes (serving, presigned URLs), with this client's credentials. */
  async raw(url: string, init: RequestInit & { auth?: boolean } = {}): Promise<Response> {
    const { auth = true, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (auth) for (const [k, v] of Object.entries(this.headers)) if (!headers.has(k)) headers.set(k, v);
    const res = await this.fetch(url, { ...rest, headers });
    if (!res.ok) throw await problemOf(res);
    return res;
  }
}
