export * from './problem.filter';
export * from './logger-params';
export * from './api-key-auth.service';
