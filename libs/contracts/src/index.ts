export * from './queues';
export * from './job-inputs';
export * from './scopes';
export * from './problem-codes';
export * from './deployments';
export * from './image-format';
export * from './label-quality';
export * from './webhooks';
