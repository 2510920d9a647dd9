/**
 * The fuzz run's world on a started platform: a real tenant with its ADMIN key, real resources for
 * path parameters (a READY dataset version, a job, a stored model and its deployment, an upload, a
 * spare API key, presigned object URLs), real sample files, and the operations of the API (its
 * OpenAPI document, and the routes its controllers declare outside it) and of the serving app (its
 * controllers and predict route). Shared by test/e2e/api-fuzz and bench/fuzz-api. Start the platform
 * with `storage: 'fs'` (npm start's default store), so that the API's presigned-URL routes are live.
 */
import { mnistPng, mnistZip } from '../archives';
import { storeModel, tinyDigitModel } from '../models';
import { call, waitFor, type Platform } from '../platform';
import type { FuzzContext } from './bodies';
import {
  operationsFromOpenApi,
  servingOperations,
  undocumentedApiOperations,
  type Credential,
  type OpenApiDocument,
  type Operation,
} from './operations';
import type { FuzzOptions } from './runner';

export interface FuzzWorld {
  ops: Operation[];
  ctx: FuzzContext;
  tenantKey: string;
  baseUrl: FuzzOptions['baseUrl'];
  token: FuzzOptions['token'];
  deadProcess: FuzzOptions['deadProcess'];
  processOutput: NonNullable<FuzzOptions['processOutput']>;
}

/** The default seed of the CI run (override with FUZZ_SEED to explore or to replay). */
export const DEFAULT_FUZZ_SEED = 20261206;

async function created(
  p: Platform,
  token: string,
  path: string,
  body: unknown,
): Promise<{ [k: string]: unknown }> {
  const r = await call(p.apiUrl, 'POST', path, { token, body });
  if (r.status >= 300)
    throw new Error(`fuzz setup: POST ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as { [k: string]: unknown };
}

export async function fuzzWorld(p: Platform): Promise<FuzzWorld> {
  const tenant = await created(p, p.adminToken, '/v1/admin/tenants', { name: 'Fuzz tenant' });
  const key = (tenant.apiKey as { key: string }).key;
  const tenantId = (tenant.tenant as { id: string }).id;

  const zip = await mnistZip(3, 3);
  const png = await mnistPng(7, 0);
  const dataset = (await created(p, key, '/v1/datasets', { name: 'fuzz', task: 'image-classification' }))
    .id as string;
  const form = new FormData();
  form.append('file', new Blob([zip], { type: 'application/zip' }), 'digits.zip');
  const up = await fetch(`${p.apiUrl}/v1/datasets/${dataset}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: form,
  });
  const version = ((await up.json()) as { version: { id: string } }).version.id;
  await waitFor(
    'fuzz dataset ready',
    async () =>
      (await call(p.apiUrl, 'GET', `/v1/datasets/${dataset}/versions/${version}`, { token: key })).body
        .status === 'READY',
    120_000,
    300,
  );

  const job = (await created(p, key, '/v1/jobs', { task: 'noop' })).id as string;
  const model = (await storeModel(p, tenantId, tinyDigitModel(1), [...'0123456789'])).id;
  const deployment = (await created(p, key, '/v1/deployments', { modelId: model, name: 'fuzz' }))
    .id as string;
  const started = await created(p, key, `/v1/datasets/${dataset}/uploads`, {
    fileName: 'big.zip',
    sizeBytes: 20_000_000,
  });
  const upload = started.uploadId as string;
  // Presigned URLs (the filesystem store's, served by the API): a part upload's PUT and a model download's GET.
  const signed = [
    (started.parts as { url: string }[])[0].url,
    (await created(p, key, `/v1/models/${model}/download`, {})).url as string,
  ].map((u) => new URL(u));
  const spareKey = (await created(p, key, '/v1/api-keys', { name: 'spare', scopes: ['READ'] })).id as string;

  const doc = await call(p.apiUrl, 'GET', '/docs/openapi.json');
  if (doc.status !== 200) throw new Error(`fuzz setup: GET /docs/openapi.json answered ${doc.status}`);
  const documented = operationsFromOpenApi(doc.body as OpenApiDocument);
  const ops = [...documented, ...undocumentedApiOperations(documented), ...servingOperations()];

  const tokens: Record<Credential, string | undefined> = {
    tenant: key,
    operator: p.adminToken,
    none: undefined,
  };
  const processes = () =>
    [
      ['api', p.api],
      ['serving', p.serving],
      ...p.workers.map((w, i) => [`worker ${i}`, w] as const),
    ] as const;
  return {
    ops,
    tenantKey: key,
    ctx: {
      ids: {
        datasets: [dataset],
        versions: [version],
        jobs: [job],
        models: [model],
        deployments: [deployment],
        uploads: [upload],
        'api-keys': [spareKey],
        objects: signed.map((u) => u.pathname.replace(/^\/v1\/objects\//, '')),
      },
      queries: { objects: signed.map((u) => u.search.slice(1)) },
      files: [png, zip],
    },
    baseUrl: (app) => (app === 'api' ? p.apiUrl : p.servingUrl),
    token: (c) => tokens[c],
    deadProcess: () =>
      processes().find(([, m]) => m.child.exitCode !== null || m.child.signalCode !== null)?.[0],
    processOutput: (name) =>
      processes()
        .find(([n]) => n === name)?.[1]
        .output() ?? '',
  };
}

/** Every process answers its readiness route: the API's and serving's /v1/health/ready, each worker's /health. */
export async function platformHealth(p: Platform): Promise<Record<string, number>> {
  const status = async (url: string) => {
    try {
      return (await fetch(url, { signal: AbortSignal.timeout(10_000) })).status;
    } catch {
      return 0;
    }
  };
  return {
    api: await status(`${p.apiUrl}/v1/health/ready`),
    serving: await status(`${p.servingUrl}/v1/health/ready`),
    worker: await status(`${p.workerUrl}/health`),
  };
}
