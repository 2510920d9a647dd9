// The API's Nest modules import its queue module, whose @nestjs/bullmq is ESM-only (jest here loads
// CommonJS). It declares no controllers or routes, so a stand-in that builds empty modules is enough.
jest.mock('@nestjs/bullmq', () => {
  const stub = () => ({ module: class BullStub {} });
  return {
    BullModule: { forRoot: stub, registerQueue: stub },
    getQueueToken: (name: string) => `BullQueue_${name}`,
    InjectQueue: () => () => undefined,
  };
});

import { GUARDS_METADATA } from '@nestjs/common/constants';
import { APP_GUARD } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import type { Redis } from 'ioredis';
import { SCOPES, scopeSatisfies, type Scope } from '@modelsmith/contracts';
import { ProblemError, type TenantPrincipal } from '@modelsmith/http';
import type { ApiKeyAuthService } from '@modelsmith/http/nest';
import { PredictAuthService } from '../../apps/serving/src/auth/predict-auth.service';
import { ServingHealthController } from '../../apps/serving/src/health/health.controller';
import { predictRouteId } from '../../apps/serving/src/predict/predict-route';
import { ServingModule } from '../../apps/serving/src/serving.module';
import { readText } from './compose-file';
import { apiAccess, apiRoutes, routeConfig, servingNestRoutes, type Access, type Route } from './routes';

interface Row {
  app: string;
  method: string;
  path: string;
  who: string;
}

/** The rows of docs/security.md's "Who may call what" table. */
function documentedRoutes(): Row[] {
  const text = readText('docs/security.md');
  const start = text.indexOf('## Who may call what');
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  return [
    ...section.matchAll(/^\|\s*(api|serving)\s*\|\s*([A-Z]+)\s*\|\s*`([^`]+)`\s*\|\s*([^|]+?)\s*\|/gm),
  ].map((m) => ({
    app: m[1],
    method: m[2],
    path: m[3],
    who: normalize(m[4]),
  }));
}

/** A "Who may call" cell as a set: order does not matter. */
function normalize(cell: string): string {
  return cell
    .split(',')
    .map((s) => s.trim())
    .sort()
    .join(', ');
}

/** The "Who may call" cell of an access rule: every scope it accepts. */
function who(access: Access): string {
  switch (access.kind) {
    case 'public':
      return 'anyone';
    case 'operator':
      return 'operator';
    case 'scope':
      return normalize(SCOPES.filter((s) => scopeSatisfies([s], access.scope)).join(', '));
  }
}

const id = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
const rows = documentedRoutes();
const rowsOf = (app: string) => rows.filter((r) => r.app === app);

describe('docs/security.md route table', () => {
  it('has rows for both apps, each route once', () => {
    expect(rowsOf('api').length).toBeGreaterThan(10);
    expect(rowsOf('serving').length).toBeGreaterThan(0);
    const keys = rows.map((r) => `${r.app} ${id(r)}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  describe('api', () => {
    const routes = apiRoutes();

    it('lists exactly the routes of the API controllers', () => {
      expect(rowsOf('api').map(id).sort()).toEqual(routes.map(id).sort());
    });

    it("says who may call each route as the AuthGuard decides it from the route's decorators", () => {
      const actual = Object.fromEntries(routes.map((r) => [id(r), who(apiAccess(r))]));
      const documented = Object.fromEntries(rowsOf('api').map((r) => [id(r), r.who]));
      expect(documented).toEqual(actual);
    });
  });

  describe('serving', () => {
    const nest = servingNestRoutes();

    it('lists exactly the Nest routes of the serving app, plus the predict route its handler answers', () => {
      const predict = rowsOf('serving').filter((r) => r.path.endsWith('/predict'));
      expect(predict).toHaveLength(1);
      // The documented path is the one the predict handler takes.
      expect(predictRouteId(predict[0].method, predict[0].path.replace(':id', 'dep-1'))).toBe('dep-1');
      expect(rowsOf('serving').map(id).sort()).toEqual([...nest.map(id), id(predict[0])].sort());
    });

    it('has no guard on its Nest routes, so those documented for anyone take no credential', () => {
      const module = ServingModule.forRoot(routeConfig);
      expect(
        (module.providers ?? []).some(
          (p) => typeof p === 'object' && 'provide' in p && p.provide === APP_GUARD,
        ),
      ).toBe(false);
      const guarded = (r: Route) =>
        Reflect.getMetadata(GUARDS_METADATA, r.controller) !== undefined ||
        Reflect.getMetadata(
          GUARDS_METADATA,
          (r.controller.prototype as Record<string, object>)[r.handler],
        ) !== undefined;
      expect(nest.filter(guarded).map(id)).toEqual([]);
    });

    it('answers its operator routes only for the ADMIN_TOKEN', () => {
      const operatorRows = rowsOf('serving').filter((r) => r.who === 'operator');
      expect(operatorRows.map(id)).toEqual(['GET /v1/serving/stats']);
      const adminToken = 'op-'.padEnd(32, 'x');
      const stats = { models: [] };
      const controller = new ServingHealthController(
        null as never,
        null as never,
        null as never,
        { stats: () => stats } as never,
        { ...routeConfig, ADMIN_TOKEN: adminToken },
      );
      const call = (authorization?: string) => () =>
        controller.stats({ headers: authorization ? { authorization } : {} } as never);
      expect(call()).toThrow(ProblemError);
      expect(call('Bearer msk_00000000_' + 'a'.repeat(43))).toThrow(ProblemError);
      expect(call(`Bearer ${adminToken}`)()).toBe(stats);
      // Nest routes documented for anyone are the others: the operator check is in this handler only.
      expect(
        rowsOf('serving')
          .filter((r) => r.who === 'anyone' && !r.path.endsWith('/predict'))
          .map(id)
          .sort(),
      ).toEqual(
        nest
          .map(id)
          .filter((r) => !operatorRows.map(id).includes(r))
          .sort(),
      );
    });

    it('lets each documented scope, and only those, predict', async () => {
      const predict = rowsOf('serving').find((r) => r.path.endsWith('/predict'))!;
      const accepted: Scope[] = [];
      for (const scope of SCOPES) {
        const principal: TenantPrincipal = {
          kind: 'api-key',
          tenantId: 't',
          keyId: `k-${scope}`,
          scopes: [scope],
          rateLimitPerMinute: null,
        };
        const keys = { authenticate: () => Promise.resolve(principal) } as unknown as ApiKeyAuthService;
        const auth = new PredictAuthService(keys, null as unknown as Redis, routeConfig);
        const req = {
          headers: { authorization: `Bearer msk_0000000${SCOPES.indexOf(scope)}_${'a'.repeat(43)}` },
        } as unknown as IncomingMessage;
        const ok = await auth.authenticate(req).then(
          () => true,
          (e: unknown) => {
            if (!(e instanceof ProblemError) || e.status !== 403) throw e;
            return false;
          },
        );
        if (ok) accepted.push(scope);
      }
      expect(predict.who).toBe(normalize(accepted.join(', ')));
    });
  });
});
