export * from './errors';
export * from './keys';
export * from './object-store';
export * from './object-store-config';
export * from './s3-object-store';
export * from './fs/fs-object-store';
export * from './fs/url-signer';
export * from './create-object-store';
