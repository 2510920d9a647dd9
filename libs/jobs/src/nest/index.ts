export * from './queue.module';
export * from './job-store.module';
export * from './webhooks.module';
