/**
 * Every HTTP route of the API and the serving app, read from the Nest modules' metadata (so a new
 * controller or route is found without being listed here), with the API's access rule per route.
 */
import 'reflect-metadata';
import { RequestMethod, type DynamicModule, type Type } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { configSchema, type AppConfig } from '@modelsmith/config';
import type { Scope } from '@modelsmith/contracts';
import { AppModule } from '../../apps/api/src/app.module';
import { OPERATOR_ROUTE, PUBLIC_ROUTE, REQUIRED_SCOPE } from '../../apps/api/src/auth/decorators';
import { API_PREFIX } from '../../apps/api/src/configure-app';
import { ServingModule } from '../../apps/serving/src/serving.module';

export type Access = { kind: 'public' } | { kind: 'operator' } | { kind: 'scope'; scope: Scope };

export interface Route {
  method: string;
  path: string;
  controller: Type;
  handler: string;
}

type ModuleRef = Type | DynamicModule | Promise<DynamicModule>;

export const routeConfig: AppConfig = configSchema.parse({
  S3_ENDPOINT: 'http://127.0.0.1:9',
  S3_ACCESS_KEY: 'a',
  S3_SECRET_KEY: 'b',
});

function isDynamic(m: ModuleRef): m is DynamicModule {
  return typeof m === 'object' && 'module' in m;
}

/** Every controller reachable from a module through its imports (static and dynamic). */
export function controllersOf(root: ModuleRef, seen = new Set<unknown>()): Type[] {
  if (root instanceof Promise) throw new Error('async dynamic modules are not walked');
  const key = isDynamic(root) ? root : root;
  if (seen.has(key)) return [];
  seen.add(key);
  const cls = isDynamic(root) ? root.module : root;
  const read = <T>(name: string): T[] => (Reflect.getMetadata(name, cls) as T[] | undefined) ?? [];
  const controllers = [
    ...read<Type>(MODULE_METADATA.CONTROLLERS),
    ...(isDynamic(root) ? (root.controllers ?? []) : []),
  ];
  const imports = [
    ...read<ModuleRef>(MODULE_METADATA.IMPORTS),
    ...(isDynamic(root) ? (root.imports ?? []) : []),
  ];
  return [...new Set([...controllers, ...imports.flatMap((m) => controllersOf(m as ModuleRef, seen))])];
}

const join = (...parts: string[]) =>
  '/' +
  parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/');

export function routesOf(controllers: Type[], prefix: string): Route[] {
  const routes: Route[] = [];
  for (const controller of controllers) {
    const base = Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined;
    const proto = controller.prototype as Record<string, unknown>;
    for (const handler of Object.getOwnPropertyNames(proto)) {
      const fn = proto[handler];
      if (handler === 'constructor' || typeof fn !== 'function') continue;
      const path = Reflect.getMetadata(PATH_METADATA, fn) as string | string[] | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
      if (path === undefined || method === undefined) continue;
      for (const b of [base ?? ''].flat()) {
        for (const p of [path].flat())
          routes.push({ method: RequestMethod[method], path: join(prefix, b, p), controller, handler });
      }
    }
  }
  return routes;
}

/** The API's rule for a route, as its global AuthGuard reads it (handler metadata over the class's). */
export function apiAccess(route: Route): Access {
  const handler = (route.controller.prototype as Record<string, object>)[route.handler];
  const meta = <T>(key: string): T | undefined =>
    (Reflect.getMetadata(key, handler) as T | undefined) ??
    (Reflect.getMetadata(key, route.controller) as T | undefined);
  if (meta<boolean>(PUBLIC_ROUTE)) return { kind: 'public' };
  if (meta<boolean>(OPERATOR_ROUTE)) return { kind: 'operator' };
  return { kind: 'scope', scope: meta<Scope>(REQUIRED_SCOPE) ?? 'READ' };
}

export function apiRoutes(): Route[] {
  return routesOf(controllersOf(AppModule.forRoot(routeConfig)), API_PREFIX);
}

/** The serving app's Nest routes (its predict route is answered before Nest; see PredictHandler). */
export function servingNestRoutes(): Route[] {
  return routesOf(controllersOf(ServingModule.forRoot(routeConfig)), 'v1');
}
