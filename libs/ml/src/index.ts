// Public surface of the ML engine. Each feature folder owns its own index.ts.
export * from './backend';
export * from './kernels';
export * from './train';
export * from './augment';
export * from './eval';
export * from './catalogue';
export * from './zoo';
export * from './preprocess';
export * from './export';
export * from './data';
export * from './parallel';
export * from './search';
