// The SDK's browser-safe part (no node: imports): what the console bundles (apps/console).
export * from './client';
export * from './problem';
export * from './upload-core';
export * from './jobs';
export * from './predict-core';
export type { paths, components, operations } from './schema';
