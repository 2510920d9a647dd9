export * from './stored-json';
export * from './dataset-version-columns';
export * from './dataset-version-store';
export * from './model-columns';
export * from './model-store';
export * from './throughput-store';
export * from './trial-store';
