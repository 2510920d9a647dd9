export * from './config.module';
