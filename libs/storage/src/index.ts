export * from './errors';
export * from './keys';
export * from './object-store';
export * from './object-store-config';
export * from './local-s3-server';
