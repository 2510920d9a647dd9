// The typed SDK of the Modelsmith API (generated types in schema.ts; `npm run sdk:generate`).
export * from './client';
export * from './problem';
export * from './upload-core';
export * from './upload';
export * from './jobs';
export * from './models';
export * from './predict-core';
export * from './predict';
export type { paths, components, operations } from './schema';
