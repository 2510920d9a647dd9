import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@modelsmith/config';
import { loadYamlDocuments, ROOT } from './compose-file';

interface Container {
  name: string;
  command?: string[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
    ports?: { targetPort: string | number }[];
  };
  resources?: string[];
}

const DIR = 'deploy/k8s';
const load = (file: string) => loadYamlDocuments(join(DIR, file)) as unknown as K8sObject[];
const kustomization = load('kustomization.yaml')[0];
const objects = (kustomization.resources ?? []).flatMap(load);
const byKind = (kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} missing from ${DIR}`);
  return found;
};
const configMap = byKind('ConfigMap', 'modelsmith-config');
const secret = load('secret.example.yaml')[0];

/** The environment a container would get from its envFrom ConfigMap/Secret and env entries. */
function containerEnv(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, byKind('ConfigMap', from.configMapRef.name).data);
    if (from.secretRef) {
      expect(from.secretRef.name).toBe(secret.metadata.name);
      Object.assign(env, secret.stringData);
    }
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      expect(ref.name).toBe(secret.metadata.name);
      env[e.name] = secret.stringData?.[ref.key] ?? '';
    }
  }
  return env;
}

/** A Kubernetes memory quantity (binary or decimal suffix) in MiB. */
function mebibytes(quantity: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity ?? '');
  if (!quantity || !m) throw new Error(`unsupported memory quantity: ${quantity}`);
  const factor: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    Ti: 1024 * 1024,
    k: 1e3 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
    T: 1e12 / 2 ** 20,
  };
  return Number(m[1]) * (m[2] ? factor[m[2]] : 1 / 2 ** 20);
}

describe('deploy/k8s manifests (static checks)', () => {
  it('lists files that exist, each a parseable manifest', () => {
    for (const file of kustomization.resources ?? []) expect(existsSync(join(ROOT, DIR, file))).toBe(true);
    for (const o of objects) expect(o.apiVersion && o.kind && o.metadata.name).toBeTruthy();
    expect(secret.kind).toBe('Secret');
  });

  it.each(['modelsmith-api', 'modelsmith-worker', 'modelsmith-worker-gpu', 'modelsmith-serving'])(
    '%s: selector matches pod labels and the env passes the config schema',
    (name) => {
      const deployment = byKind('Deployment', name);
      const labels = deployment.spec?.template?.metadata?.labels ?? {};
      expect(labels).toMatchObject(deployment.spec?.selector?.matchLabels ?? { missing: true });
      const container = deployment.spec?.template?.spec.containers[0] as Container;
      const config = loadConfig(containerEnv(container));
      expect(config.NODE_ENV).toBe('production');
      expect(
        existsSync(join(ROOT, (container.command?.[1] ?? '').replace(/^dist\//, '').replace(/\.js$/, '.ts'))),
      ).toBe(true);
    },
  );

  it('probes the api health routes on its port and exposes it through the Service', () => {
    const api = byKind('Deployment', 'modelsmith-api');
    const c = api.spec?.template?.spec.containers[0] as Container;
    const config = loadConfig(containerEnv(c));
    expect(config.API_HOST).toBe('0.0.0.0');
    expect(c.ports).toContainEqual({ name: 'http', containerPort: config.API_PORT });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/v1/health/live', port: 'http' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/v1/health/ready', port: 'http' });
    const service = byKind('Service', 'modelsmith-api');
    expect(service.spec?.selector).toEqual(api.spec?.selector?.matchLabels);
    expect(service.spec?.ports?.[0].targetPort).toBe('http');
  });

  it('probes the serving health routes on its port and exposes it through the Service', () => {
    const serving = byKind('Deployment', 'modelsmith-serving');
    const c = serving.spec?.template?.spec.containers[0] as Container;
    expect(c.command).toEqual(['node', 'dist/apps/serving/src/main.js']);
    const config = loadConfig(containerEnv(c));
    expect(config.SERVING_HOST).toBe('0.0.0.0');
    expect(c.ports).toContainEqual({ name: 'http', containerPort: config.SERVING_PORT });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/v1/health/live', port: 'http' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/v1/health/ready', port: 'http' });
    const service = byKind('Service', 'modelsmith-serving');
    expect(service.spec?.selector).toEqual(serving.spec?.selector?.matchLabels);
    expect(service.spec?.selector).not.toEqual(byKind('Service', 'modelsmith-api').spec?.selector);
    expect(service.spec?.ports?.[0].targetPort).toBe('http');
    expect((serving.spec as { replicas?: number }).replicas).toBeGreaterThanOrEqual(2);
  });

  it('sizes the serving memory limit for its model cache plus overhead, and drains longer than a request', () => {
    const serving = byKind('Deployment', 'modelsmith-serving');
    const pod = serving.spec?.template?.spec as PodSpec;
    const c = pod.containers[0];
    const config = loadConfig(containerEnv(c));
    expect(configMap.data?.SERVING_MODEL_CACHE_MB).toBeDefined();
    const limit = mebibytes(c.resources?.limits?.memory);
    expect(limit).toBeGreaterThanOrEqual(config.SERVING_MODEL_CACHE_MB + 512);
    expect(mebibytes(c.resources?.requests?.memory)).toBeLessThanOrEqual(limit);
    expect(pod.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(config.SERVING_REQUEST_TIMEOUT_MS / 1000);
    expect([mebibytes('2Gi'), mebibytes('1536Mi'), mebibytes('1G')]).toEqual([2048, 1536, 1e9 / 2 ** 20]);
  });

  it('tells the api where serving is reachable (predictUrl)', () => {
    const api = byKind('Deployment', 'modelsmith-api');
    const config = loadConfig(containerEnv(api.spec?.template?.spec.containers[0] as Container));
    expect(config.SERVING_PUBLIC_URL).toMatch(/^https?:\/\//);
    expect(config.SERVING_PUBLIC_URL).not.toBe(config.PUBLIC_URL);
  });

  it('probes the worker /health and lets it drain longer than its shutdown grace', () => {
    const worker = byKind('Deployment', 'modelsmith-worker');
    const pod = worker.spec?.template?.spec as PodSpec;
    const c = pod.containers[0];
    const config = loadConfig(containerEnv(c));
    expect(c.ports).toContainEqual({ name: 'health', containerPort: config.WORKER_HEALTH_PORT });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'health' });
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(config.WORKER_SHUTDOWN_GRACE_SECONDS);
  });

  it('runs GPU workers on the gpu queue only, on GPU nodes, with a GPU each', () => {
    const gpu = byKind('Deployment', 'modelsmith-worker-gpu');
    const pod = gpu.spec?.template?.spec as PodSpec;
    const c = pod.containers[0];
    const config = loadConfig(containerEnv(c));
    expect(config.WORKER_QUEUES).toEqual(['gpu']);
    expect(config.ML_BACKEND).toBe('tensorflow-gpu');
    expect((c as { image?: string }).image).toMatch(/^modelsmith-gpu:/);
    expect(c.command).toEqual(
      byKind('Deployment', 'modelsmith-worker').spec?.template?.spec.containers[0].command,
    );
    // Extended resources must be requested whole, and requests equal limits.
    expect(c.resources?.limits?.['nvidia.com/gpu']).toMatch(/^[1-9]\d*$/);
    expect(c.resources?.requests?.['nvidia.com/gpu'] ?? c.resources?.limits?.['nvidia.com/gpu']).toBe(
      c.resources?.limits?.['nvidia.com/gpu'],
    );
    expect(pod.nodeSelector?.['nvidia.com/gpu.present']).toBe('true');
    expect(pod.tolerations).toContainEqual(
      expect.objectContaining({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }),
    );
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(config.WORKER_SHUTDOWN_GRACE_SECONDS);
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'health' });
    // The CPU worker asks for no GPU and consumes no gpu jobs.
    const cpu = byKind('Deployment', 'modelsmith-worker').spec?.template?.spec.containers[0] as Container;
    expect(cpu.resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
    expect(loadConfig(containerEnv(cpu)).WORKER_QUEUES).toEqual(['cpu']);
  });

  it('runs migrations as a Job with the owner connection', () => {
    const job = byKind('Job', 'modelsmith-migrate');
    const c = job.spec?.template?.spec.containers[0] as Container;
    expect(c.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(Object.keys(containerEnv(c)).sort()).toEqual(['DATABASE_APP_PASSWORD', 'DATABASE_URL']);
    expect(configMap.data?.DATABASE_URL).toBeUndefined();
  });
});
