export * from './signing';
export * from './target-policy';
export * from './sender';
export * from './outbox';
export * from './deliverer';
export * from './relay';
