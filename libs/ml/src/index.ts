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
export * from './dynamics';
export * from './search';
export * from './tabular';
export { evaluateTabular, type TabularEvaluation } from './tabular/tabular-report';
export * from './text';
export * from './explain';
