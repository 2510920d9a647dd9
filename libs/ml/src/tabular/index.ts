// Tabular models in plain TypeScript (no TensorFlow.js): encoders, histogram GBDT, linear models,
// the JSON artifact and prediction from records. Serving imports this subpath; the evaluation
// report (which reuses the image classification report) is exported from the package root.
export * from './values';
export * from './preprocess';
export * from './binning';
export * from './gbdt';
export * from './linear';
export * from './artifact';
export * from './train-tabular';
export * from './regression-metrics';
export * from './warm-up';
export * from './selection';
export * from './rungs';
export * from './job-trial';
