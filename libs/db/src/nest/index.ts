export * from './db.module';
