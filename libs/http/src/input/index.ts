export * from './bounds';
export * from './client-errors';
export * from './control-characters';
export * from './json-body';
export * from './json-depth';
export * from './multipart';
export * from './ids';
export * from './nulls';
