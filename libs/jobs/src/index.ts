export * from './redis';
export * from './errors';
export * from './job-events';
export * from './job-store';
export * from './dispatcher';
export * from "./nest/queue.module";
export * from "./nest/job-store.module";
